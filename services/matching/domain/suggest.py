"""Suggesting taxonomy categories for a need from its text, with a confidence and the words.

Each category is described by its labels and the words of ``lexicon/category_terms.json``
(whole words, stemmed); the need's text is analysed fully, so "Pflegefachkräfte" reaches
"Fachkräfte". A need's terms vote for the categories that
contain them, each weighted by how specific it is (a term shared by many categories counts
less). The confidence is on a fixed scale, like the text relevance: one specific word gives
about 0.4, three give about 0.8. Staff confirm or change the suggestion; nothing is assigned.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from services.matching.domain.model import Taxonomy
from services.matching.domain.text import analyse, word_terms

CATEGORY_TERMS = Path(__file__).parent / "lexicon" / "category_terms.json"
CONFIDENCE_SCALE = 4.0
MIN_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Suggestion:
    code: str
    label_de: str
    label_en: str
    confidence: float
    words: tuple[str, ...]  # the need's words that led to it


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[str, ...]]:
    raw = json.loads(CATEGORY_TERMS.read_text(encoding="utf-8"))
    return {code: tuple(words) for code, words in raw["terms"].items()}


def _category_terms(taxonomy: Taxonomy) -> dict[str, frozenset[str]]:
    lexicon = _lexicon()
    return {
        code: _terms(" ".join((category.label_de, category.label_en, *lexicon.get(code, ()))))
        for code, category in taxonomy.categories.items()
    }


@lru_cache(maxsize=256)
def _terms(text: str) -> frozenset[str]:
    return frozenset(word_terms(text))


def _specificity(terms: dict[str, frozenset[str]]) -> dict[str, float]:
    frequency: dict[str, int] = {}
    for category_terms in terms.values():
        for term in category_terms:
            frequency[term] = frequency.get(term, 0) + 1
    return {term: math.log(1 + len(terms) / count) for term, count in frequency.items()}


def suggest(taxonomy: Taxonomy, title: str, description: str, top: int = 3) -> list[Suggestion]:
    """The most likely categories, best first, those above ``MIN_CONFIDENCE`` only."""
    terms = _category_terms(taxonomy)
    weight = _specificity(terms)
    analysed = analyse(f"{title} {description}")
    found = []
    for code, category_terms in terms.items():
        hits = dict.fromkeys(t for t, _ in analysed if t in category_terms)
        if not hits:
            continue
        score = sum(weight[t] for t in hits)
        words = tuple(dict.fromkeys(w for t, w in analysed if t in hits))
        confidence = round(1 - math.exp(-score / CONFIDENCE_SCALE), 3)
        category = taxonomy.categories[code]
        found.append(Suggestion(code, category.label_de, category.label_en, confidence, words))
    found.sort(key=lambda s: (-s.confidence, s.code))
    return [s for s in found if s.confidence >= MIN_CONFIDENCE][:top]
