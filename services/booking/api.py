"""The staff HTTP API of the booking service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/booking", tags=["booking"])
