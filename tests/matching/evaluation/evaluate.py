"""Ranking quality on the hand-judged evaluation set: precision@1 and nDCG@5."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.matching.domain.index import ProviderIndex
from services.matching.domain.model import Taxonomy
from services.matching.domain.suggest import suggest
from services.matching.service import to_need, to_provider
from tests.matching.evaluation.legacy import LegacyTextIndex

DATASET = Path(__file__).parent / "dataset.json"


@dataclass(frozen=True)
class Quality:
    cases: int
    precision_at_1: float
    ndcg_at_5: float
    misses: tuple[str, ...]  # cases whose first proposal is not relevant
    first: dict[str, str]  # the first proposal of each case


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATASET.read_text(encoding="utf-8"))
    return data


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = 5) -> float:
    gains = [2 ** relevant.get(pid, 0) - 1 for pid in ranked[:k]]
    ideal = sorted((2**grade - 1 for grade in relevant.values()), reverse=True)[:k]
    dcg = sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))
    best = sum(gain / math.log2(position + 2) for position, gain in enumerate(ideal))
    return dcg / best if best else 0.0


ONE_CATEGORY = "strategy"  # text alone: every need and every provider in this one category


def _one_category(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "categories": [ONE_CATEGORY], "levels": {}}


def evaluate(
    weights: dict[str, float] | None = None, *, version: str = "new", text_alone: bool = False
) -> Quality:
    """Rank every case; ``version="old"`` uses the first version's text scorer, ``text_alone``
    puts every need and provider in one category, so that only the text tells them apart."""
    data = load()
    docs = [_one_category(d) if text_alone else d for d in data["providers"]]
    providers = [to_provider({"doc": doc}) for doc in docs]
    index = (
        LegacyTextIndex(Taxonomy.load(), providers)
        if version == "old"
        else ProviderIndex(Taxonomy.load(), providers)
    )
    hits, total_ndcg, misses, first = 0, 0.0, [], {}
    for case in data["cases"]:
        need_doc = _one_category(case["need"]) if text_alone else case["need"]
        need = to_need(case["case_id"], {**need_doc, "company_id": "eval"}, case["company"])
        ranked = [p.provider_id for p in index.rank(need, weights=weights, top=5).proposals]
        relevant: dict[str, int] = case["relevant"]
        first[case["case_id"]] = ranked[0] if ranked else ""
        if ranked and relevant.get(ranked[0], 0) > 0:
            hits += 1
        else:
            misses.append(case["case_id"])
        total_ndcg += ndcg(ranked, relevant)
    count = len(data["cases"])
    return Quality(count, hits / count, total_ndcg / count, tuple(misses), first)


@dataclass(frozen=True)
class SuggestionAccuracy:
    cases: int
    top_1: float  # the first suggestion is one of the need's categories
    top_3: float  # one of the first three is


def suggestion_accuracy() -> SuggestionAccuracy:
    taxonomy, cases = Taxonomy.load(), load()["cases"]
    first = within = 0
    for case in cases:
        given = set(case["need"]["categories"])
        codes = [
            s.code for s in suggest(taxonomy, case["need"]["title"], case["need"]["description"])
        ]
        first += bool(codes) and codes[0] in given
        within += bool(given & set(codes))
    return SuggestionAccuracy(len(cases), first / len(cases), within / len(cases))
