"""The staff HTTP API of the notify service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/notify", tags=["notify"])
