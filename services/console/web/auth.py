"""Whose token the console passes to the services, and what the signed-in person may do.

With an OpenID issuer configured, every call carries the signed-in person's own access token, so
the services' audit records name the person. Only without an issuer does the console fall back
to its service token (``CONSOLE_STAFF_TOKEN``).
"""

from __future__ import annotations

from starlette.requests import Request

from services.console.settings import ConsoleSettings
from services.console.web.session import session_of

ACTING_ROLES = frozenset({"staff", "admin"})
ADMIN_ROLES = frozenset({"admin"})


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.runtime.settings
    return settings


def token_for(request: Request) -> str | None:
    person_token = session_of(request).data.get("access_token")
    if isinstance(person_token, str) and person_token:
        return person_token
    settings = _settings(request)
    if settings.oidc_issuer:
        return None
    return settings.staff_token.get_secret_value() if settings.staff_token else None


def person_of(request: Request) -> str:
    name = session_of(request).data.get("name")
    return str(name) if name else ""


def may_act(request: Request, allowed: frozenset[str] = ACTING_ROLES) -> bool:
    """Staff and admins change things; a viewer only reads (the services check it again)."""
    if not _settings(request).oidc_issuer:
        return True
    roles = session_of(request).data.get("roles") or []
    return any(role in allowed for role in roles)
