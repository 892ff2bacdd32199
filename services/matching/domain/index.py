"""Scoring one need against many providers at once: column arrays instead of a loop.

``ProviderIndex`` holds every provider as a row of numpy columns and an inverted index of
profile terms. It computes the same vetoes and criteria as ``scoring.rank`` (the reference,
one provider at a time) for all providers in a few vector operations, then builds the readable
explanations for the chosen few only. Upserts and removals change single rows and postings, so
a provider change is visible to the very next query.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import (
    DEFAULT_WEIGHTS,
    LEVEL_CREDIT,
    NO_EXPOSURE,
    RELATED_CREDIT,
    VETO_CAPACITY,
    VETO_CONFLICT,
    VETO_KIND,
    VETO_LANGUAGE,
    VETO_RADIUS,
    VETO_SERVICE,
    VETO_STAFF_BLOCK,
    BandSeat,
    Exposure,
    Ranking,
    Scored,
    band_keys,
    criteria,
    query_text,
    stable_hash,
)
from services.matching.domain.text import TEXT_SCALE, relevance, tokens

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
EARTH_KM = 6371.0


@dataclass(frozen=True)
class Candidates:
    """Providers that may make the top, before the exposure ledger orders them."""

    need: Need
    slots: Ints
    scores: Floats
    text: Floats  # text relevance of each candidate, on the absolute scale of ``relevance``
    veto_counts: dict[str, int]


class _Bits:
    """Small vocabularies (languages, service types, sectors) as bits of an integer."""

    def __init__(self) -> None:
        self._bit: dict[str, int] = {}

    def mask(self, values: Iterable[str]) -> int:
        mask = 0
        for value in values:
            if value not in self._bit:
                if len(self._bit) == 63:
                    continue  # more distinct values than bits: ignored, never vetoed on
                self._bit[value] = len(self._bit)
            mask |= 1 << self._bit[value]
        return mask

    def known(self, values: Iterable[str]) -> int:
        return sum(1 << self._bit[value] for value in values if value in self._bit)


class ProviderIndex:
    def __init__(
        self,
        taxonomy: Taxonomy,
        providers: Iterable[Provider] = (),
        k1: float = 1.4,
        b: float = 0.75,
        analyse: Callable[[str], tuple[str, ...]] = tokens,
    ) -> None:
        self.taxonomy = taxonomy
        self.k1, self.b = k1, b
        self.analyse = analyse
        self._slot: dict[str, int] = {}
        self._rows: list[Provider | None] = []
        self._free: list[int] = []
        self._languages, self._services, self._sectors = _Bits(), _Bits(), _Bits()
        self._kinds = _Bits()
        self._blocked_by_company: dict[str, set[int]] = {}
        self._postings: dict[str, tuple[Ints, Floats]] = {}
        self._total_length = 0.0
        self._allocate(64)
        self.upsert_many(providers)

    # -- rows -------------------------------------------------------------------------------

    def _allocate(self, size: int) -> None:
        def grow(old: npt.NDArray[Any] | None, fill: object, dtype: object) -> npt.NDArray[Any]:
            new = np.full(size, fill, dtype=dtype)  # type: ignore[call-overload]
            if old is not None:
                new[: len(old)] = old
            return new  # type: ignore[no-any-return]

        current = getattr(self, "active", None)
        self.active: Bools = grow(current, False, np.bool_)
        self.lat: Floats = grow(getattr(self, "lat", None), np.nan, np.float64)
        self.lon: Floats = grow(getattr(self, "lon", None), np.nan, np.float64)
        self.radius: Floats = grow(getattr(self, "radius", None), 0.0, np.float64)
        self.capacity_left: Ints = grow(getattr(self, "capacity_left", None), 0, np.int64)
        self.price_min: Floats = grow(getattr(self, "price_min", None), np.nan, np.float64)
        self.quality: Floats = grow(getattr(self, "quality", None), 0.0, np.float64)
        self.language_bits: Ints = grow(getattr(self, "language_bits", None), 0, np.int64)
        self.service_bits: Ints = grow(getattr(self, "service_bits", None), 0, np.int64)
        self.sector_bits: Ints = grow(getattr(self, "sector_bits", None), 0, np.int64)
        self.kind_bits: Ints = grow(getattr(self, "kind_bits", None), 0, np.int64)
        self.lengths: Floats = grow(getattr(self, "lengths", None), 0.0, np.float64)
        old_exact = getattr(self, "_exact", {})
        old_related = getattr(self, "_related", {})
        self._exact: dict[str, Floats] = {
            code: grow(old_exact.get(code), 0.0, np.float64) for code in self._codes(old_exact)
        }
        self._related: dict[str, Bools] = {
            code: grow(old_related.get(code), False, np.bool_) for code in self.taxonomy.categories
        }

    def _codes(self, existing: Mapping[str, object]) -> set[str]:
        return set(self.taxonomy.categories) | set(existing)

    def __len__(self) -> int:
        return len(self._slot)

    def provider_id(self, slot: int) -> str:
        row = self._rows[slot]
        assert row is not None
        return row.provider_id

    def text_value(self, need: Need, provider_id: str) -> float:
        """One provider's text relevance (against all providers, as in a ranking)."""
        slot = self._slot.get(provider_id)
        if slot is None:
            return 0.0
        return relevance(float(self.text_scores(query_text(need))[slot]))

    def providers(self) -> list[Provider]:
        return [row for row in self._rows if row is not None]

    def get(self, provider_id: str) -> Provider | None:
        slot = self._slot.get(provider_id)
        return None if slot is None else self._rows[slot]

    def upsert(self, provider: Provider) -> None:
        self.upsert_many([provider])

    def upsert_many(self, providers: Iterable[Provider]) -> None:
        """Add or replace providers; the postings of their terms are rebuilt once."""
        staged: dict[str, tuple[list[int], list[float]]] = {}
        for provider in providers:
            slot = self._put_row(provider)
            counts = Counter(self.analyse(provider.profile))
            self.lengths[slot] = sum(counts.values())
            self._total_length += self.lengths[slot]
            for term, tf in counts.items():
                slots, tfs = staged.setdefault(term, ([], []))
                slots.append(slot)
                tfs.append(float(tf))
        for term, (new_slots, new_tfs) in staged.items():
            old_slots, old_tfs = self._postings.get(term, (np.empty(0, np.int64), np.empty(0)))
            self._postings[term] = (
                np.concatenate([old_slots, np.array(new_slots, dtype=np.int64)]),
                np.concatenate([old_tfs, np.array(new_tfs)]),
            )

    def _put_row(self, provider: Provider) -> int:
        self.remove(provider.provider_id)
        slot = self._free.pop() if self._free else len(self._rows)
        if slot == len(self._rows):
            self._rows.append(None)
        if slot >= len(self.active):
            self._allocate(len(self.active) * 2)
        self._rows[slot] = provider
        self._slot[provider.provider_id] = slot
        self.active[slot] = True
        self.lat[slot] = np.nan if provider.lat is None else provider.lat
        self.lon[slot] = np.nan if provider.lon is None else provider.lon
        self.radius[slot] = provider.radius_km
        self.capacity_left[slot] = provider.capacity_left
        self.price_min[slot] = np.nan if provider.price_min is None else provider.price_min
        self.quality[slot] = provider.quality
        self.language_bits[slot] = self._languages.mask(provider.languages)
        self.service_bits[slot] = self._services.mask(s.value for s in provider.service_types)
        self.sector_bits[slot] = self._sectors.mask(provider.sectors)
        self.kind_bits[slot] = self._kinds.mask([provider.kind])
        for company in provider.blocked_companies:
            self._blocked_by_company.setdefault(company, set()).add(slot)
        for code in provider.categories:
            if code not in self._exact:
                self._exact[code] = np.zeros(len(self.active))
            self._exact[code][slot] = LEVEL_CREDIT[provider.level(code)]
        for code, related in self._related.items():
            related[slot] = any(self.taxonomy.related(code, other) for other in provider.categories)
        return slot

    def remove(self, provider_id: str) -> None:
        slot = self._slot.pop(provider_id, None)
        if slot is None:
            return
        provider = self._rows[slot]
        assert provider is not None
        self._rows[slot] = None
        self._free.append(slot)
        self.active[slot] = False
        for company in provider.blocked_companies:
            self._blocked_by_company.get(company, set()).discard(slot)
        for code in provider.categories:
            self._exact[code][slot] = 0.0
        self._remove_terms(slot, provider.profile)

    # -- text -------------------------------------------------------------------------------

    def _remove_terms(self, slot: int, profile: str) -> None:
        self._total_length -= self.lengths[slot]
        for term in set(self.analyse(profile)):
            slots, tfs = self._postings[term]
            keep = slots != slot
            if keep.any():
                self._postings[term] = (slots[keep], tfs[keep])
            else:
                del self._postings[term]

    def text_scores(self, query: str) -> Floats:
        """BM25 over all providers, exactly as ``text.Bm25`` computes it."""
        scores = np.zeros(len(self.active))
        count = len(self._slot)
        if count == 0:
            return scores
        average = self._total_length / count
        for term in set(self.analyse(query)):
            posting = self._postings.get(term)
            if posting is None:
                continue
            slots, tfs = posting
            idf = math.log(1 + (count - len(slots) + 0.5) / (len(slots) + 0.5))
            lengths = self.lengths[slots]
            norm = tfs * (self.k1 + 1) / (tfs + self.k1 * (1 - self.b + self.b * lengths / average))
            scores[slots] += idf * norm
        return scores

    def text_values(self, raw: Floats) -> Floats:
        """BM25 on the fixed scale of ``text.relevance``, elementwise."""
        return 1.0 - np.exp(-raw / TEXT_SCALE)  # type: ignore[no-any-return]

    # -- ranking ----------------------------------------------------------------------------

    def candidates(
        self,
        need: Need,
        *,
        weights: Mapping[str, float] | None = None,
        top: int = 5,
        tolerance: float = 0.02,
        excluded: frozenset[str] = frozenset(),
    ) -> Candidates:
        """Score every provider; keep those whose band can still reach the top ``top``."""
        weight = {**DEFAULT_WEIGHTS, **(weights or {})}
        slots, km, veto_counts = self._eligible(need, excluded)
        raw_text = self.text_scores(query_text(need))[slots]
        text = self.text_values(raw_text)
        fit = self._taxonomy_fit(need, slots)
        near = np.where(
            np.isnan(km), 1.0, np.maximum(0.0, 1.0 - km / np.maximum(self.radius[slots], 1.0))
        )
        values = {
            "taxonomy": fit,
            "text": text,
            "sector": self._sector_fit(need, slots),
            "distance": near,
            "budget": self._budget_fit(need, slots),
            "quality": self.quality[slots],
            "language": self._first_language(need, slots),
        }
        total = np.zeros(len(slots))
        for name, value in values.items():
            total += np.round(weight[name] * value, 4)
        keep = (fit > 0) | (raw_text > 0)
        slots, scores, text = slots[keep], np.round(total[keep], 4), text[keep]
        if len(slots) > top:
            bands = np.floor(scores / tolerance)
            threshold = np.partition(bands, len(bands) - top)[len(bands) - top]
            chosen = bands >= threshold
            slots, scores, text = slots[chosen], scores[chosen], text[chosen]
        return Candidates(need, slots, scores, text, veto_counts)

    def finish(
        self,
        candidates: Candidates,
        exposure: Mapping[BandSeat, Exposure] | None = None,
        *,
        weights: Mapping[str, float] | None = None,
        top: int = 5,
        tolerance: float = 0.02,
    ) -> Ranking:
        """Order the candidates neutrally and explain the chosen ones."""
        exposure = exposure or {}
        weight = {**DEFAULT_WEIGHTS, **(weights or {})}
        need = candidates.need
        rows = [self._rows[int(slot)] for slot in candidates.slots]
        ids = [row.provider_id for row in rows if row is not None]
        keys = self.band_keys(candidates, tolerance)
        shown = [exposure.get((keys.get(pid, ""), pid), NO_EXPOSURE) for pid in ids]
        hashes = np.array(
            [
                stable_hash(need.need_id, pid, seen.attention)
                for pid, seen in zip(ids, shown, strict=True)
            ],
            dtype=np.uint64,
        )
        firsts = np.array([seen.firsts for seen in shown], dtype=np.int64)
        attention = np.array([seen.attention for seen in shown], dtype=np.float64)
        bands = -np.floor(candidates.scores / tolerance)
        order = np.lexsort((hashes, attention, firsts, bands))[:top]
        band_values, band_sizes = np.unique(bands, return_counts=True)
        tied = dict(zip(band_values.tolist(), (band_sizes - 1).tolist(), strict=True))
        ranking = Ranking(veto_counts=candidates.veto_counts)
        for position in order:
            provider = rows[int(position)]
            assert provider is not None
            breakdown = criteria(
                need, provider, self.taxonomy, float(candidates.text[position]), weight
            )
            total = round(sum(c.contribution for c in breakdown), 4)
            others = tied[float(bands[position])]
            band = keys.get(provider.provider_id, "")
            ranking.proposals.append(Scored(provider.provider_id, total, breakdown, others, band))
        return ranking

    def band_keys(self, candidates: Candidates, tolerance: float = 0.02) -> dict[str, str]:
        """The tie band of each tied candidate, as the exposure ledger keys it."""
        ids = [self.provider_id(int(slot)) for slot in candidates.slots]
        return band_keys(dict(zip(ids, candidates.scores.tolist(), strict=True)), tolerance)

    def rank(
        self,
        need: Need,
        *,
        weights: Mapping[str, float] | None = None,
        exposure: Mapping[BandSeat, Exposure] | None = None,
        top: int = 5,
        tolerance: float = 0.02,
        excluded: frozenset[str] = frozenset(),
    ) -> Ranking:
        found = self.candidates(
            need, weights=weights, top=top, tolerance=tolerance, excluded=excluded
        )
        return self.finish(found, exposure, weights=weights, top=top, tolerance=tolerance)

    # -- criteria, vectorised ---------------------------------------------------------------

    def _eligible(
        self, need: Need, excluded: frozenset[str]
    ) -> tuple[Ints, Floats, dict[str, int]]:
        """Slots that pass every veto, their distances, and how many each veto removed."""
        remaining = self.active.copy()
        counts: dict[str, int] = {}

        def veto(mask: Bools, reason: str) -> None:
            hit = remaining & mask
            if hit.any():
                counts[reason] = int(hit.sum())
                remaining[hit] = False

        def flags(slots: Iterable[int]) -> Bools:
            mask = np.zeros(len(self.active), dtype=np.bool_)
            mask[list(slots)] = True
            return mask

        veto(flags(self._slot[p] for p in excluded if p in self._slot), VETO_STAFF_BLOCK[1])
        veto(flags(self._blocked_by_company.get(need.company_id, ())), VETO_CONFLICT[1])
        veto(self.capacity_left <= 0, VETO_CAPACITY[1])
        veto((self.language_bits & self._languages.known(need.languages)) == 0, VETO_LANGUAGE[1])
        service = self._services.known([need.service_type.value])
        veto((self.service_bits & service) == 0, VETO_SERVICE[1])
        veto((self.kind_bits & self._kinds.known(need.wanted_kinds)) == 0, VETO_KIND[1])
        slots = np.flatnonzero(remaining)
        km = self._distances(need, slots)
        with np.errstate(invalid="ignore"):
            inside = np.isnan(km) | (km <= self.radius[slots])
        if not inside.all():
            counts[VETO_RADIUS[1]] = int((~inside).sum())
        return slots[inside], km[inside], counts

    def _distances(self, need: Need, slots: Ints) -> Floats:
        if need.lat is None or need.lon is None:
            return np.full(len(slots), np.nan)
        lat1, lat2 = math.radians(need.lat), np.radians(self.lat[slots])
        dlat, dlon = lat2 - lat1, np.radians(self.lon[slots] - need.lon)
        a = np.sin(dlat / 2) ** 2 + math.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
        return EARTH_KM * 2 * np.arcsin(np.sqrt(a))  # type: ignore[no-any-return]

    def _taxonomy_fit(self, need: Need, slots: Ints) -> Floats:
        total = np.zeros(len(slots))
        for code in need.categories:
            exact = self._exact.get(code)
            related = self._related.get(code)
            value = np.zeros(len(slots)) if exact is None else exact[slots]
            if related is not None:
                value = np.where(value > 0, value, np.where(related[slots], RELATED_CREDIT, 0.0))
            total += value
        return total / max(len(need.categories), 1)

    def _sector_fit(self, need: Need, slots: Ints) -> Floats:
        bits = self.sector_bits[slots]
        if need.sector is None:
            return np.full(len(slots), 0.5)
        served = (bits & self._sectors.known([need.sector])) != 0
        return np.where(bits == 0, 0.5, np.where(served, 1.0, 0.0))

    def _budget_fit(self, need: Need, slots: Ints) -> Floats:
        if need.budget_max is None:
            return np.ones(len(slots))
        price = self.price_min[slots]
        return np.where(np.isnan(price) | (price <= need.budget_max), 1.0, 0.0)

    def _first_language(self, need: Need, slots: Ints) -> Floats:
        speaks = (self.language_bits[slots] & self._languages.known(need.languages[:1])) != 0
        return np.where(speaks, 1.0, 0.5)
