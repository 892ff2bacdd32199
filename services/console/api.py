"""The console's HTTP face: its pages (the profiles' catch-all paths come last)."""

from __future__ import annotations

from services.console.web import (
    audit,
    batch,
    frame,
    imports,
    meetings,
    need_actions,
    needs,
    no_slot,
    privacy,
    profiles,
    reports,
    signin,
    troubles,
    week,
)

routers = [
    signin.router,
    frame.router,
    needs.router,
    need_actions.router,
    week.router,  # before the meeting pages: /termine/woche is not a meeting
    no_slot.router,
    meetings.router,
    troubles.router,
    imports.router,
    batch.router,
    audit.router,
    privacy.router,
    reports.router,
    profiles.router,
]
