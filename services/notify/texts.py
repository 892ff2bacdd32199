"""Texts for people: Jinja2 templates in German and English, overridable from a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

BUILT_IN = Path(__file__).resolve().parent / "templates"
LOCALES = ("de", "en")


class Texts:
    def __init__(self, override: Path | None = None) -> None:
        folders = [str(override)] if override else []
        self._env = Environment(
            loader=ChoiceLoader([FileSystemLoader([*folders, str(BUILT_IN)])]),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, locale: str, template: str, **values: Any) -> str:
        language = locale if locale in LOCALES else "de"
        return self._env.get_template(f"{language}/{template}").render(**values)

    def email(self, locale: str, kind: str, **values: Any) -> tuple[str, str, str]:
        """Subject, text and HTML of an invite, update or cancel email."""
        subject = self.render(locale, f"{kind}.subject.txt", **values).strip()
        text = self.render(locale, f"{kind}.txt", **values)
        html = self.render(locale, f"{kind}.html", body=text)
        return subject, text, html
