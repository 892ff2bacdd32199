"""Category suggestions from a need's text: a confidence and the words that led to them."""

from __future__ import annotations

from services.matching.domain.model import Taxonomy
from services.matching.domain.suggest import suggest
from tests.matching.evaluation.evaluate import suggestion_accuracy

TAXONOMY = Taxonomy.load()


def test_a_backup_need_is_suggested_backup_with_the_words_that_tell() -> None:
    [first, *_] = suggest(
        TAXONOMY,
        "Laptop geklaut",
        "Unser Firmenlaptop wurde gestohlen, eine Datensicherung gab es nicht.",
    )
    assert first.code == "security.backup"
    assert {"geklaut", "gestohlen", "Datensicherung"} <= set(first.words)
    assert 0.5 < first.confidence <= 1.0


def test_compounds_in_the_need_reach_the_category_words() -> None:
    [first, *_] = suggest(TAXONOMY, "Pflegefachkräfte gesucht", "Wir brauchen Bewerbungen.")
    assert first.code == "market.recruiting"
    assert "Pflegefachkräfte" in first.words


def test_a_text_without_clues_gets_no_suggestion() -> None:
    assert suggest(TAXONOMY, "Hallo", "Wir sind ein Betrieb in Dortmund.") == []


def test_suggestions_are_right_on_most_of_the_evaluation_set() -> None:
    accuracy = suggestion_accuracy()
    assert accuracy.top_1 >= 0.75  # measured 0.77 (47 of 61), top 3: 0.97
    assert accuracy.top_3 >= 0.9
