"""The staff HTTP API of the matching service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/matching", tags=["matching"])
