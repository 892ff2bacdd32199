"""The console's HTTP face: its pages (the profiles' catch-all paths come last)."""

from __future__ import annotations

from services.console.web import (
    frame,
    imports,
    meetings,
    needs,
    privacy,
    profiles,
    reports,
    signin,
    troubles,
)

routers = [
    signin.router,
    frame.router,
    needs.router,
    meetings.router,
    troubles.router,
    imports.router,
    privacy.router,
    reports.router,
    profiles.router,
]
