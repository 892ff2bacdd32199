"""Whose token the console passes to the services: the one place to switch to the person's own.

Until sign-in through the office's OpenID provider lands, every call carries the console's
service token (``CONSOLE_STAFF_TOKEN``), and the person is "Mitarbeiterin/Mitarbeiter".
"""

from __future__ import annotations

from starlette.requests import Request

from services.console.settings import ConsoleSettings
from services.console.web.session import session_of


def token_for(request: Request) -> str | None:
    person_token = session_of(request).data.get("access_token")
    if isinstance(person_token, str) and person_token:
        return person_token
    settings: ConsoleSettings = request.app.state.runtime.settings
    return settings.staff_token.get_secret_value() if settings.staff_token else None


def person_of(request: Request) -> str:
    name = session_of(request).data.get("name")
    return str(name) if name else ""
