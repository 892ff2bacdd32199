"""The report's tables and summary from the aggregated rows (plain mappings in, tables out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.console.domain.reports import Table, days, gini, rate

Row = Mapping[str, Any]

SIZE_LABELS = {
    "micro": "Kleinstunternehmen (unter 10)",
    "small": "Kleinunternehmen (10–49)",
    "medium": "Mittleres Unternehmen (50–249)",
    "large": "Großunternehmen (ab 250)",
    "unknown": "Größe unbekannt",
}
CHANNEL_LABELS = {"email": "E-Mail", "sms": "SMS"}
GROUP_LABELS = {
    "category": "Kategorie",
    "sector": "Branche (WZ-Abschnitt)",
    "district": "Bezirk",
    "size_class": "Größenklasse",
}


def label(group: str, value: str) -> str:
    if group == "size_class":
        return SIZE_LABELS.get(value, value)
    return value or "ohne Angabe"


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f} %"


@dataclass(frozen=True)
class Summary:
    received: int
    matched: int
    met: int
    closed: int
    meetings: int
    held: int
    no_show: int
    attendance: float | None
    sent: int
    failed: int


@dataclass
class Report:
    summary: Summary
    tables: dict[str, Table] = field(default_factory=dict)


def needs_table(rows: Sequence[Row], group: str) -> Table:
    return Table(
        "needs",
        "Bedarfe",
        (GROUP_LABELS[group], "Eingegangen", "Vermittelt", "Mit Termin", "Abgeschlossen"),
        [
            (label(group, r["grp"]), r["received"], r["matched"], r["met"], r["closed"])
            for r in rows
        ],
    )


def spans_table(row: Row) -> Table:
    spans = (
        ("Bedarf bis Vorschlag", "proposal"),
        ("Bedarf bis Termin", "meeting"),
        ("Bedarf bis Ergebnis", "outcome"),
    )
    rows: list[tuple[object, ...]] = []
    for title, key in spans:
        median, p90 = row[key] or (None, None)
        rows.append((title, row[f"n_{key}"], days(median), days(p90)))
    return Table(
        "durations", "Dauer", ("Zeitspanne", "Anzahl", "Median (Tage)", "p90 (Tage)"), rows
    )


def meetings_table(rows: Sequence[Row], group: str) -> Table:
    return Table(
        "meetings",
        "Termine",
        (
            GROUP_LABELS[group],
            "Termine",
            "Stattgefunden",
            "Abgelehnt",
            "Abgesagt",
            "Nicht erschienen",
            "Teilnahmequote",
        ),
        [
            (
                label(group, r["grp"]),
                r["total"],
                r["held"],
                r["declined"],
                r["cancelled"],
                r["no_show"],
                percent(rate(r["held"], r["held"] + r["no_show"])),
            )
            for r in rows
        ],
    )


def feedback_table(rows: Sequence[Row]) -> Table:
    return Table(
        "feedback",
        "Rückmeldungen",
        (
            "Kategorie",
            "Rückmeldungen",
            "Bewertung (1–4)",
            "Projekt gestartet",
            "In Arbeit",
            "Kein Folgekontakt",
        ),
        [
            (
                label("category", r["category"]),
                r["answers"],
                None if r["rating"] is None else round(r["rating"], 2),
                r["project_started"],
                r["in_progress"],
                r["no_follow_up"],
            )
            for r in rows
        ],
    )


def deliveries_table(rows: Sequence[Row]) -> Table:
    return Table(
        "deliveries",
        "Zustellungen",
        ("Kanal", "Zugestellt", "Fehlgeschlagen", "Ausstehend"),
        [
            (CHANNEL_LABELS.get(r["channel"], r["channel"]), r["sent"], r["failed"], r["pending"])
            for r in rows
        ],
    )


def months_table(rows: Sequence[Row]) -> Table:
    return Table(
        "months",
        "Bedarfe je Monat",
        ("Monat", "Eingegangen"),
        [(r["month"], r["received"]) for r in rows],
    )


def summarize(needs: Sequence[Row], meetings: Sequence[Row], deliveries: Sequence[Row]) -> Summary:
    def total(rows: Sequence[Row], key: str) -> int:
        return sum(int(r[key]) for r in rows)

    held, no_show = total(meetings, "held"), total(meetings, "no_show")
    return Summary(
        received=total(needs, "received"),
        matched=total(needs, "matched"),
        met=total(needs, "met"),
        closed=total(needs, "closed"),
        meetings=total(meetings, "total"),
        held=held,
        no_show=no_show,
        attendance=rate(held, held + no_show),
        sent=total(deliveries, "sent"),
        failed=total(deliveries, "failed"),
    )


def exposure_rows(
    shown: Sequence[Row], met: Sequence[Row], providers: Sequence[Row]
) -> list[dict[str, Any]]:
    """Proposal counts joined with meetings and each provider's name and capacity."""
    meetings = {(m["provider_id"], m["category"]): int(m["meetings"]) for m in met}
    known = {p["provider_id"]: p for p in providers}
    rows = []
    for s in shown:
        provider = known.get(s["provider_id"], {})
        rows.append(
            {
                **s,
                "name": provider.get("name") or s["provider_id"],
                "capacity": provider.get("capacity"),
                "meetings": meetings.get((s["provider_id"], s["category"]), 0),
            }
        )
    return sorted(rows, key=lambda r: (r["category"], r["name"]))


def capacity_used(meetings: int, capacity: int | None) -> str:
    return percent(rate(meetings, capacity)) if capacity else ""


def provider_table(rows: Sequence[Row]) -> Table:
    """Per provider and category: the figures a provider may see of itself."""
    return Table(
        "providers",
        "Anbieter",
        (
            "Anbieter",
            "Kategorie",
            "Vorgeschlagen",
            "Erster Platz",
            "Gleichauf",
            "Erster unter Gleichauf",
            "Gewählt",
            "Termine",
            "Kapazität",
            "Auslastung",
        ),
        [
            (
                r["name"],
                label("category", r["category"]),
                r["proposed"],
                r["first"],
                r["tied"],
                r["first_tied"],
                r["chosen"],
                r["meetings"],
                r["capacity"],
                capacity_used(r["meetings"], r["capacity"]),
            )
            for r in rows
        ],
    )


def _per_provider(rows: Sequence[Row], key: str, only_tied: bool = False) -> list[int]:
    counts: dict[str, int] = {}
    for r in rows:
        if only_tied and not r["tied"]:
            continue
        counts[r["provider_id"]] = counts.get(r["provider_id"], 0) + int(r[key])
    return list(counts.values())


def fairness(rows: Sequence[Row], idle: int) -> dict[str, float | None]:
    """Gini of exposure (providers never proposed count as 0) and of firsts among the tied."""
    return {
        "exposure": gini([*_per_provider(rows, "proposed"), *([0] * idle)]),
        "first_tied": gini(_per_provider(rows, "first_tied", only_tied=True)),
    }


def public_table(rows: Sequence[Row]) -> Table:
    """Per category, aggregates only: no provider can be recognised."""
    by_category: dict[str, list[Row]] = {}
    for r in rows:
        by_category.setdefault(r["category"], []).append(r)
    out: list[tuple[object, ...]] = []
    for category, members in sorted(by_category.items()):
        shares = fairness(members, 0)
        out.append(
            (
                label("category", category),
                len({m["provider_id"] for m in members}),
                sum(int(m["proposed"]) for m in members),
                sum(int(m["tied"]) for m in members),
                _round(shares["exposure"]),
                _round(shares["first_tied"]),
            )
        )
    return Table(
        "neutrality",
        "Neutralität je Kategorie",
        (
            "Kategorie",
            "Anbieter vorgeschlagen",
            "Vorschläge",
            "Davon gleichauf",
            "Gini Sichtbarkeit",
            "Gini erste Plätze unter Gleichauf",
        ),
        out,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
