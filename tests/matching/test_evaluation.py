"""Ranking quality must not fall below what the evaluation set shows today."""

from __future__ import annotations

from tests.matching.evaluation.evaluate import evaluate, load

# The figures reached by the second version (German text analysis, absolute text scale):
# 38 of 39 first proposals relevant (the first version: 37 of 39). nDCG@5 is 0.934, not 0.958:
# mentors now serve mentoring needs only (issue 15), and the judges had accepted some mentors
# for first advice; their places in the ideal ranking can no longer be filled.
PRECISION_AT_1 = 38 / 39
NDCG_AT_5 = 0.934


def test_the_evaluation_set_is_large_enough_and_in_german() -> None:
    data = load()
    assert len(data["cases"]) >= 30
    german = [c for c in data["cases"] if " und " in c["need"]["description"]]
    assert len(german) >= 30
    assert data["cases"][0]["relevant"], "the building-materials dealer has a judged answer"


def test_ranking_quality_does_not_regress() -> None:
    quality = evaluate()
    assert quality.precision_at_1 >= PRECISION_AT_1 - 1e-9, quality.misses
    assert quality.ndcg_at_5 >= NDCG_AT_5


def test_the_building_materials_dealer_gets_the_chat_specialist_not_a_shop() -> None:
    case = load()["cases"][0]
    providers = {p["provider_id"]: p for p in load()["providers"]}
    first = evaluate().first["c01"]
    assert case["relevant"][first] == 2
    assert "market.chat" in providers[first]["categories"]
    assert "market.shop" not in providers[first]["categories"]
