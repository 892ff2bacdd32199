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
from services.matching.domain.text import Bm25, matched_words, relevance

DEFAULT_WEIGHTS = {
    "taxonomy": 0.30,
    "text": 0.25,
    "sector": 0.08,
    "distance": 0.14,
    "budget": 0.08,
    "quality": 0.10,
    "language": 0.05,
}
CRITERIA = tuple(DEFAULT_WEIGHTS)
LEVEL_CREDIT = {1: 0.7, 2: 0.85, 3: 1.0}  # an exact category, by the provider's level
RELATED_CREDIT = 0.5  # a parent, child or sibling category


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
    veto_counts: dict[str, int] = field(default_factory=dict)  # by English reason

    def count_vetoes(self) -> None:
        counts: dict[str, int] = {}
        for vetoed in self.vetoed:
            counts[vetoed.reason_en] = counts.get(vetoed.reason_en, 0) + 1
        self.veto_counts = counts


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = rlat2 - rlat1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _distance(need: Need, provider: Provider) -> float | None:
    if None in (need.lat, need.lon, provider.lat, provider.lon):
        return None
    return distance_km(need.lat, need.lon, provider.lat, provider.lon)  # type: ignore[arg-type]


VETO_STAFF_BLOCK = (
    "von der Geschäftsstelle für diesen Bedarf gesperrt",
    "blocked by staff for this need",
)
VETO_CONFLICT = ("Interessenkonflikt oder Sperrliste", "conflict of interest or block list")
VETO_CAPACITY = ("keine freie Kapazität", "no capacity left")
VETO_LANGUAGE = ("keine gemeinsame Sprache", "no common language")
VETO_SERVICE = ("bietet diese Leistungsart nicht an", "does not offer this service type")


def veto(need: Need, provider: Provider, excluded: frozenset[str] = frozenset()) -> Vetoed | None:
    pid = provider.provider_id
    if pid in excluded:
        return Vetoed(pid, *VETO_STAFF_BLOCK)
    if need.company_id in provider.blocked_companies:
        return Vetoed(pid, *VETO_CONFLICT)
    if provider.capacity_left <= 0:
        return Vetoed(pid, *VETO_CAPACITY)
    if not set(need.languages) & set(provider.languages):
        return Vetoed(pid, *VETO_LANGUAGE)
    if need.service_type not in provider.service_types:
        return Vetoed(pid, *VETO_SERVICE)
    km = _distance(need, provider)
    if km is not None and km > provider.radius_km:
        return Vetoed(pid, "außerhalb des Einsatzradius", "outside the service radius")
    return None


def taxonomy_fit(need: Need, provider: Provider, taxonomy: Taxonomy) -> tuple[float, str, str]:
    values, exact, related = [], [], []
    for code in need.categories:
        if code in provider.categories:
            values.append(LEVEL_CREDIT[provider.level(code)])
            exact.append(code)
        elif any(taxonomy.related(code, other) for other in provider.categories):
            values.append(RELATED_CREDIT)
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


def text_reasons(need: Need, provider: Provider, value: float) -> tuple[str, str]:
    """The text relevance and the words of the need that the profile shares."""
    words = matched_words(query_text(need), provider.profile)
    if not words:
        return (
            "Textübereinstimmung: keine gemeinsamen Begriffe",
            "text relevance: no terms in common",
        )
    return (
        f"Textübereinstimmung {value:.0%}; gemeinsame Begriffe: {', '.join(words)}",
        f"text relevance {value:.0%}; terms in common: {', '.join(words)}",
    )


def sector_fit(need: Need, provider: Provider) -> tuple[float, str, str]:
    if not provider.sectors:
        return 0.5, "arbeitet branchenübergreifend", "works across sectors"
    if need.sector in provider.sectors:
        return 1.0, "kennt die Branche", "knows the sector"
    return 0.0, "keine Erfahrung in der Branche", "no experience in the sector"


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
    sector, sector_de, sector_en = sector_fit(need, provider)
    return (
        Criterion("taxonomy", weights["taxonomy"], fit, fit_de, fit_en),
        Criterion("text", weights["text"], text_value, *text_reasons(need, provider, text_value)),
        Criterion("sector", weights["sector"], sector, sector_de, sector_en),
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


def query_text(need: Need) -> str:
    return f"{need.title} {need.description}"


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
    excluded: frozenset[str] = frozenset(),
) -> Ranking:
    """The reference implementation: one provider at a time. ``ProviderIndex`` must agree."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    exposure = exposure or {}
    ranking = Ranking()
    # Text relevance is measured against all providers, so a veto never shifts it.
    all_text = Bm25(p.profile for p in providers).scores(query_text(need))
    eligible: list[tuple[Provider, float]] = []
    for provider, text in zip(providers, all_text, strict=True):
        vetoed = veto(need, provider, excluded)
        if vetoed:
            ranking.vetoed.append(vetoed)
        else:
            eligible.append((provider, text))
    ranking.count_vetoes()
    if not eligible:
        return ranking
    scored = []
    for provider, text in eligible:
        breakdown = criteria(need, provider, taxonomy, relevance(text), weights)
        total = round(sum(c.contribution for c in breakdown), 4)
        if breakdown[0].value > 0 or text > 0:
            scored.append(Scored(provider.provider_id, total, breakdown))

    ranking.proposals = neutral_order(need.need_id, scored, exposure, tolerance)[:top]
    return ranking


def neutral_order(
    need_id: str, scored: list[Scored], exposure: dict[str, int], tolerance: float
) -> list[Scored]:
    """Best band first; within a band, the least shown first, then a stable hash."""

    def order(item: Scored) -> tuple[int, int, str]:
        return (
            -math.floor(item.score / tolerance),
            exposure.get(item.provider_id, 0),
            _stable_hash(need_id, item.provider_id),
        )

    return sorted(scored, key=order)
