"""The matching domain: companies, needs, providers and the taxonomy. Pure data, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.events.common import ServiceType

DEFAULT_TAXONOMY = Path(__file__).parent / "taxonomy.json"
IT_PROVIDER, MENTOR = "it_provider", "mentor"
PROVIDER_KINDS = (IT_PROVIDER, MENTOR)


@dataclass(frozen=True)
class Category:
    code: str
    label_de: str
    label_en: str
    parent: str | None


@dataclass(frozen=True)
class Taxonomy:
    version: str
    categories: dict[str, Category]

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
        return cls.from_doc(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_doc(cls, raw: dict[str, Any]) -> Taxonomy:
        categories = {
            item["code"]: Category(item["code"], item["de"], item["en"], item.get("parent"))
            for item in raw["categories"]
        }
        return cls(version=raw["version"], categories=categories)

    def as_doc(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "categories": [
                {"code": c.code, "de": c.label_de, "en": c.label_en, "parent": c.parent}
                for c in self.categories.values()
            ],
        }

    def related(self, a: str, b: str) -> bool:
        """Parent and child, or siblings under one parent."""
        first, second = self.categories.get(a), self.categories.get(b)
        if first is None or second is None:
            return False
        return (
            first.parent == b
            or second.parent == a
            or (first.parent is not None and first.parent == second.parent)
        )

    def unknown(self, codes: tuple[str, ...]) -> list[str]:
        return [code for code in codes if code not in self.categories]


@dataclass(frozen=True)
class Need:
    need_id: str
    company_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    service_type: ServiceType
    languages: tuple[str, ...] = ("de",)
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None
    budget_max: int | None = None
    sector: str | None = None  # WZ 2008 section letter of the company
    # Staff's choice of provider kinds; empty: mentors for mentoring, IT providers otherwise.
    provider_kinds: tuple[str, ...] = ()

    @property
    def wanted_kinds(self) -> frozenset[str]:
        if self.provider_kinds:
            return frozenset(self.provider_kinds)
        return frozenset({MENTOR} if self.service_type is ServiceType.MENTORING else {IT_PROVIDER})


@dataclass(frozen=True)
class Provider:
    provider_id: str
    name: str
    profile: str
    categories: tuple[str, ...]
    service_types: tuple[ServiceType, ...] = tuple(ServiceType)
    languages: tuple[str, ...] = ("de",)
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 50.0
    price_min: int | None = None
    capacity: int = 4
    booked: int = 0
    blocked_companies: tuple[str, ...] = field(default=())
    quality: float = 0.5
    ratings: int = 0  # feedback received; with none, ``quality`` is the neutral prior
    # Capability level per category: 1 basic, 2 advanced, 3 expert (2 when not given).
    levels: tuple[tuple[str, int], ...] = ()
    sectors: tuple[str, ...] = ()  # WZ 2008 section letters served; empty means all
    kind: str = "it_provider"  # or "mentor" (a digital mentor, Digitallots:in)

    @property
    def capacity_left(self) -> int:
        return max(0, self.capacity - self.booked)

    def level(self, code: str) -> int:
        return dict(self.levels).get(code, 2)
