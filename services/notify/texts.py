"""Texts for people: Jinja2 templates in German and English, overridable from a directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

BUILT_IN = Path(__file__).resolve().parent / "templates"
LOCALES = ("de", "en")


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def linkify(text: str) -> Markup:
    """The line, escaped, with each web address as a link (mail clients do not all do it)."""
    parts, last = [], 0
    for found in _URL.finditer(text):
        url = found.group(0)
        parts += [escape(text[last : found.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


class Texts:
    def __init__(self, override: Path | None = None) -> None:
        folders = [str(override)] if override else []
        self._env = Environment(
            loader=ChoiceLoader([FileSystemLoader([*folders, str(BUILT_IN)])]),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._env.filters["linkify"] = linkify

    def render(self, locale: str, template: str, **values: Any) -> str:
        language = locale if locale in LOCALES else "de"
        return self._env.get_template(f"{language}/{template}").render(**values)

    def email(self, locale: str, kind: str, **values: Any) -> tuple[str, str, str]:
        """Subject, text and HTML of an invite, update or cancel email."""
        subject = self.render(locale, f"{kind}.subject.txt", **values).strip()
        text = self.render(locale, f"{kind}.txt", **values)
        html = self.render(locale, f"{kind}.html", body=text)
        return subject, text, html
