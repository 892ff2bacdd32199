"""Pages for attendees (the feedback form), from Jinja2 templates: German first, then English."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALES = ("de", "en")


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
    )


def language(*wishes: str | None) -> str:
    """The first wish we speak; German otherwise."""
    return next((wish for wish in wishes if wish in LOCALES), "de")


def render(locale: str, template: str, **values: Any) -> str:
    return _environment().get_template(f"{language(locale)}/{template}").render(**values)
