"""Scoring a need against providers: vetoes first, then a weighted sum of explained criteria.

Neutrality: providers whose scores fall into the same band of width ``tolerance`` count as equally
good (a tie band); among them, the one with the least positional exposure in that band so far comes
first. The exposure ledger is kept per band (its members' ids): it counts first places (what gets
the meeting) and adds ``attention(rank)`` for every place shown; fewest first places lead, then
least attention, then a stable hash of (need, provider, attention). No randomness, so every run
can be replayed from its recorded inputs.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from services.matching.domain import reasons
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
    tied_with: int = 0  # other providers in the same tie band
    band: str = ""  # the tie band's key (its members), when tied

    @property
    def tie_reasons(self) -> tuple[str, str] | None:
        return reasons.tie(self.tied_with) if self.tied_with else None


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
VETO_KIND = (
    "andere Anbieterart (Mentoring durch Digitallots:innen, sonst IT-Dienstleister)",
    "other kind of provider (mentors for mentoring, IT providers otherwise)",
)
VETO_RADIUS = ("außerhalb des Einsatzradius", "outside the service radius")


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
    if provider.kind not in need.wanted_kinds:
        return Vetoed(pid, *VETO_KIND)
    km = _distance(need, provider)
    if km is not None and km > provider.radius_km:
        return Vetoed(pid, *VETO_RADIUS)
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
    return value, *reasons.taxonomy(need, provider, taxonomy, exact, related)


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


def sector_fit(need: Need, provider: Provider) -> float:
    if not provider.sectors or need.sector is None:
        return 0.5
    return 1.0 if need.sector in provider.sectors else 0.0


def criteria(
    need: Need, provider: Provider, taxonomy: Taxonomy, text_value: float, weights: dict[str, float]
) -> tuple[Criterion, ...]:
    fit, fit_de, fit_en = taxonomy_fit(need, provider, taxonomy)
    km = _distance(need, provider)
    near = 1.0 if km is None else max(0.0, 1.0 - km / max(provider.radius_km, 1.0))
    affordable = (
        1.0
        if need.budget_max is None or provider.price_min is None
        else float(provider.price_min <= need.budget_max)
    )
    first_language = 1.0 if need.languages[0] in provider.languages else 0.5
    sector = sector_fit(need, provider)
    return (
        Criterion("taxonomy", weights["taxonomy"], fit, fit_de, fit_en),
        Criterion("text", weights["text"], text_value, *text_reasons(need, provider, text_value)),
        Criterion("sector", weights["sector"], sector, *reasons.sector(need, provider, sector)),
        Criterion("distance", weights["distance"], near, *reasons.distance(provider, km)),
        Criterion("budget", weights["budget"], affordable, *reasons.budget(need, provider)),
        Criterion("quality", weights["quality"], provider.quality, *reasons.quality(provider)),
        Criterion(
            "language",
            weights["language"],
            first_language,
            *reasons.language(need, provider, first_language),
        ),
    )


def query_text(need: Need) -> str:
    return f"{need.title} {need.description}"


def stable_hash(need_id: str, provider_id: str, exposure: float) -> int:
    """Breaks a tie that exposure leaves; the exposure is part of it, so the winner rotates."""
    key = f"{need_id}:{provider_id}:{exposure:.6f}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8])


def rank(
    need: Need,
    providers: list[Provider],
    taxonomy: Taxonomy,
    *,
    weights: dict[str, float] | None = None,
    exposure: Mapping[BandSeat, Exposure] | None = None,
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


@dataclass(frozen=True)
class Exposure:
    """A provider's positional exposure so far: first places, and attention over all places."""

    firsts: int = 0
    attention: float = 0.0

    def after(self, rank: int) -> Exposure:
        return Exposure(self.firsts + (rank == 1), self.attention + attention(rank))


NO_EXPOSURE = Exposure()
BandSeat = tuple[str, str]  # (band key, provider id): the exposure ledger's key


def attention(rank: int) -> float:
    """How much of a reader's attention a list position gets (1, 0.63, 0.5, 0.43, 0.39 …)."""
    return 1.0 / math.log2(1 + rank)


def tie_band(score: float, tolerance: float) -> int:
    return math.floor(score / tolerance)


def band_key(members: Iterable[str]) -> str:
    """A tie band's identity: its members. The exposure ledger is kept per band."""
    return hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()[:16]


def band_keys(scores: Mapping[str, float], tolerance: float) -> dict[str, str]:
    """Each tied provider's band key; providers alone in their band have none."""
    members: dict[int, list[str]] = {}
    for provider_id, score in scores.items():
        members.setdefault(tie_band(score, tolerance), []).append(provider_id)
    return {
        provider_id: band_key(group)
        for group in members.values()
        if len(group) > 1
        for provider_id in group
    }


def neutral_order(
    need_id: str, scored: list[Scored], exposure: Mapping[BandSeat, Exposure], tolerance: float
) -> list[Scored]:
    """Best band first; within a band, the least positional exposure in that band first (fewest
    first places, then least attention over all places), then a stable hash."""
    sizes = Counter(tie_band(item.score, tolerance) for item in scored)
    keys = band_keys({item.provider_id: item.score for item in scored}, tolerance)

    def order(item: Scored) -> tuple[int, int, float, int]:
        band = keys.get(item.provider_id, "")
        shown = exposure.get((band, item.provider_id), NO_EXPOSURE)
        return (
            -tie_band(item.score, tolerance),
            shown.firsts,
            shown.attention,
            stable_hash(need_id, item.provider_id, shown.attention),
        )

    return [
        replace(
            item,
            tied_with=sizes[tie_band(item.score, tolerance)] - 1,
            band=keys.get(item.provider_id, ""),
        )
        for item in sorted(scored, key=order)
    ]
