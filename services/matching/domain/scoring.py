"""Scoring a need against providers: vetoes first, then a weighted sum of explained criteria.

Neutrality: providers whose scores lie within ``tolerance`` of each other count as equally good;
among them, the one shown least often so far comes first (the exposure ledger), then a stable
hash of (need, provider). No randomness, so every run can be replayed.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.text import Bm25

DEFAULT_WEIGHTS = {
    "taxonomy": 0.35,
    "text": 0.25,
    "distance": 0.15,
    "budget": 0.10,
    "quality": 0.10,
    "language": 0.05,
}


@dataclass(frozen=True)
class Criterion:
    criterion: str
    weight: float
    value: float
    reason_de: str
    reason_en: str

    @property
    def contribution(self) -> float:
        return round(self.weight * self.value, 4)


@dataclass(frozen=True)
class Scored:
    provider_id: str
    score: float
    breakdown: tuple[Criterion, ...]


@dataclass(frozen=True)
class Vetoed:
    provider_id: str
    reason_de: str
    reason_en: str


@dataclass
class Ranking:
    proposals: list[Scored] = field(default_factory=list)
    vetoed: list[Vetoed] = field(default_factory=list)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = rlat2 - rlat1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _distance(need: Need, provider: Provider) -> float | None:
    if None in (need.lat, need.lon, provider.lat, provider.lon):
        return None
    return distance_km(need.lat, need.lon, provider.lat, provider.lon)  # type: ignore[arg-type]


def veto(need: Need, provider: Provider) -> Vetoed | None:
    pid = provider.provider_id
    if need.company_id in provider.blocked_companies:
        return Vetoed(
            pid, "Interessenkonflikt oder Sperrliste", "conflict of interest or block list"
        )
    if provider.capacity_left <= 0:
        return Vetoed(pid, "keine freie Kapazität", "no capacity left")
    if not set(need.languages) & set(provider.languages):
        return Vetoed(pid, "keine gemeinsame Sprache", "no common language")
    if need.service_type not in provider.service_types:
        return Vetoed(pid, "bietet diese Leistungsart nicht an", "does not offer this service type")
    km = _distance(need, provider)
    if km is not None and km > provider.radius_km:
        return Vetoed(
            pid, f"außerhalb des Einsatzradius ({km:.0f} km)", f"outside radius ({km:.0f} km)"
        )
    return None


def taxonomy_fit(need: Need, provider: Provider, taxonomy: Taxonomy) -> tuple[float, str, str]:
    values, exact, related = [], [], []
    for code in need.categories:
        if code in provider.categories:
            values.append(1.0)
            exact.append(code)
        elif any(taxonomy.related(code, other) for other in provider.categories):
            values.append(0.5)
            related.append(code)
        else:
            values.append(0.0)
    value = sum(values) / len(values) if values else 0.0
    labels_de = ", ".join(taxonomy.categories[c].label_de for c in exact) or "keine"
    labels_en = ", ".join(taxonomy.categories[c].label_en for c in exact) or "none"
    suffix_de = f"; verwandt: {len(related)}" if related else ""
    suffix_en = f"; related: {len(related)}" if related else ""
    return (
        value,
        f"passende Themen: {labels_de}{suffix_de}",
        f"matching topics: {labels_en}{suffix_en}",
    )


def criteria(
    need: Need, provider: Provider, taxonomy: Taxonomy, text_value: float, weights: dict[str, float]
) -> tuple[Criterion, ...]:
    fit, fit_de, fit_en = taxonomy_fit(need, provider, taxonomy)
    km = _distance(need, provider)
    near = 1.0 if km is None else max(0.0, 1.0 - km / max(provider.radius_km, 1.0))
    km_de = "Entfernung unbekannt" if km is None else f"{km:.0f} km entfernt"
    km_en = "distance unknown" if km is None else f"{km:.0f} km away"
    affordable = (
        1.0
        if need.budget_max is None or provider.price_min is None
        else float(provider.price_min <= need.budget_max)
    )
    first_language = 1.0 if need.languages[0] in provider.languages else 0.5
    return (
        Criterion("taxonomy", weights["taxonomy"], fit, fit_de, fit_en),
        Criterion(
            "text",
            weights["text"],
            text_value,
            f"Textübereinstimmung {text_value:.0%}",
            f"text relevance {text_value:.0%}",
        ),
        Criterion("distance", weights["distance"], near, km_de, km_en),
        Criterion(
            "budget",
            weights["budget"],
            affordable,
            "im Budget" if affordable else "über dem Budget",
            "within budget" if affordable else "above budget",
        ),
        Criterion(
            "quality",
            weights["quality"],
            provider.quality,
            f"Rückmeldungen {provider.quality:.0%}",
            f"feedback {provider.quality:.0%}",
        ),
        Criterion(
            "language",
            weights["language"],
            first_language,
            "spricht die bevorzugte Sprache",
            "speaks the preferred language",
        ),
    )


def _stable_hash(need_id: str, provider_id: str) -> str:
    return hashlib.sha256(f"{need_id}:{provider_id}".encode()).hexdigest()


def rank(
    need: Need,
    providers: list[Provider],
    taxonomy: Taxonomy,
    *,
    weights: dict[str, float] | None = None,
    exposure: dict[str, int] | None = None,
    top: int = 5,
    tolerance: float = 0.02,
) -> Ranking:
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    exposure = exposure or {}
    ranking = Ranking()
    eligible: list[Provider] = []
    for provider in providers:
        vetoed = veto(need, provider)
        if vetoed:
            ranking.vetoed.append(vetoed)
        else:
            eligible.append(provider)
    if not eligible:
        return ranking
    raw_text = Bm25(p.profile for p in eligible).scores(f"{need.title} {need.description}")
    best_text = max(raw_text) or 1.0
    scored = []
    for provider, text in zip(eligible, raw_text, strict=True):
        breakdown = criteria(need, provider, taxonomy, text / best_text, weights)
        total = round(sum(c.contribution for c in breakdown), 4)
        if breakdown[0].value > 0 or text > 0:
            scored.append(Scored(provider.provider_id, total, breakdown))

    def order(item: Scored) -> tuple[float, int, str]:
        band = math.floor(item.score / tolerance)
        return (
            -band,
            exposure.get(item.provider_id, 0),
            _stable_hash(need.need_id, item.provider_id),
        )

    ranking.proposals = sorted(scored, key=order)[:top]
    return ranking
