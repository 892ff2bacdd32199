"""Ranking quality must not fall below what the evaluation set shows today."""

from __future__ import annotations

from tests.matching.evaluation.evaluate import evaluate, load

# The figures reached by the second version (German text analysis, absolute text scale) on 61
# cases: 60 first proposals relevant (the first version's text scorer: 59). nDCG@5 0.932 (0.934
# with the first scorer): mentors now serve mentoring needs only (issue 15), and the judges had
# accepted some mentors for first advice, so the ideal ranking holds places no one can fill.
PRECISION_AT_1 = 60 / 61
NDCG_AT_5 = 0.931


def test_the_evaluation_set_is_large_enough_in_german_and_english() -> None:
    cases = load()["cases"]
    assert len(cases) >= 60
    english = [c for c in cases if c["company"]["languages"][0] == "en"]
    assert len(english) >= 5
    assert len(cases) - len(english) >= 50
    exercised = " ".join(c.get("exercises", "") for c in cases)
    for kind in ("compound", "plural", "stray words", "mentoring", "homograph"):
        assert kind in exercised, kind
    assert cases[0]["relevant"], "the building-materials dealer has a judged answer"


def test_ranking_quality_does_not_regress() -> None:
    quality = evaluate()
    assert quality.precision_at_1 >= PRECISION_AT_1 - 1e-9, quality.misses
    assert quality.ndcg_at_5 >= NDCG_AT_5


def test_text_alone_ranks_better_than_the_first_versions_text_scorer() -> None:
    new, old = evaluate(text_alone=True), evaluate(version="old", text_alone=True)
    assert new.precision_at_1 > old.precision_at_1
    assert new.ndcg_at_5 > old.ndcg_at_5


def test_the_building_materials_dealer_gets_the_chat_specialist_not_a_shop() -> None:
    case = load()["cases"][0]
    providers = {p["provider_id"]: p for p in load()["providers"]}
    first = evaluate().first["c01"]
    assert case["relevant"][first] == 2
    assert "market.chat" in providers[first]["categories"]
    assert "market.shop" not in providers[first]["categories"]
