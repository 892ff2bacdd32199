"""Calendar clients' answers as they send them, from the samples in ``tests/booking/imip``.

Each client's envelope (``<client>_reply.eml``) carries a calendar object (``<client>_<kind>.ics``)
the way that client does: Outlook as a base64 ``text/calendar; method=REPLY`` part, Google and
Thunderbird also as an ``invite.ics`` attachment, Apple as a quoted-printable attachment only.
"""

from __future__ import annotations

import base64
import quopri
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SAMPLES = Path(__file__).parents[1] / "booking" / "imip"
BERLIN = ZoneInfo("Europe/Berlin")
ENVELOPE = {
    "outlook": "outlook",
    "google": "google",
    "apple": "apple",
    "thunderbird": "thunderbird",
}
SUBJECTS = {"ACCEPTED": "Accepted", "TENTATIVE": "Tentative", "DECLINED": "Declined"}


@dataclass(frozen=True)
class Answer:
    uid: str
    attendee: str
    organizer: str
    start: datetime
    sequence: int = 0
    partstat: str = "ACCEPTED"
    attendee_name: str = "Petra Schulte"
    sender: str = ""  # the From address; the attendee's by default
    title: str = "Chat-Kanal für Stammkunden"
    comment: str = ""
    message_id: str = field(default_factory=lambda: f"{uuid.uuid4().hex}@mail.example")
    proposed_start: datetime | None = None

    def but(self, **changes: object) -> Answer:
        fresh = {"message_id": f"{uuid.uuid4().hex}@mail.example"}
        return replace(self, **(fresh | changes))  # type: ignore[arg-type]


def _fields(answer: Answer) -> dict[str, str]:
    end = answer.start + timedelta(hours=1)
    proposed = answer.proposed_start or answer.start + timedelta(days=1)
    values = {key: str(value) for key, value in asdict(answer).items()}
    return values | {
        "sender": answer.sender or answer.attendee,
        "start_local": f"{answer.start.astimezone(BERLIN):%Y%m%dT%H%M%S}",
        "end_local": f"{end.astimezone(BERLIN):%Y%m%dT%H%M%S}",
        "start_utc": f"{answer.start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "end_utc": f"{end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "proposed_start_utc": f"{proposed.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "proposed_end_utc": f"{(proposed + timedelta(hours=1)).astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "subject_prefix": SUBJECTS.get(answer.partstat, "Antwort"),
    }


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def calendar_text(client: str, answer: Answer, kind: str = "reply") -> str:
    template = (SAMPLES / f"{client}_{kind}.ics").read_text(encoding="utf-8")
    return _crlf(template.format(**_fields(answer)))


def mail(client: str, answer: Answer, kind: str = "reply", ics: str | None = None) -> bytes:
    """The whole mail as ``client`` sends it (``ics`` replaces the calendar object)."""
    text = ics if ics is not None else calendar_text(client, answer, kind)
    data = text.encode("utf-8")
    envelope = (SAMPLES / f"{client}_reply.eml").read_text(encoding="utf-8")
    filled = envelope.format(
        **_fields(answer),
        ics=text.rstrip("\r\n"),
        ics_base64=base64.encodebytes(data).decode("ascii").rstrip("\n"),
        ics_qp=quopri.encodestring(data).decode("ascii").rstrip("\n"),
    )
    return _crlf(filled).encode("utf-8")


def other_mail(name: str, answer: Answer) -> bytes:
    """A mail that is not a usable answer (``plain_mail``, ``not_icalendar``)."""
    template = (SAMPLES / f"{name}.eml").read_text(encoding="utf-8")
    return _crlf(template.format(**_fields(answer))).encode("utf-8")
