"""Text relevance: BM25 over provider profiles, with German stemming."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[a-zäöüß0-9]+", re.IGNORECASE)
_STEMMER = snowballstemmer.stemmer("german")
_STOPWORDS = frozenset(
    [
        "und",
        "oder",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "einen",
        "für",
        "mit",
        "von",
        "zu",
        "im",
        "in",
        "auf",
        "wir",
        "unsere",
        "unser",
        "unseren",
        "ist",
        "sind",
        "nicht",
        "auch",
        "bei",
        "als",
        "aus",
        "dem",
        "den",
        "des",
        "es",
        "wie",
        "soll",
        "sollen",
        "möchten",
        "will",
        "wollen",
        "an",
    ]
)


@lru_cache(maxsize=200_000)
def tokens(text: str) -> tuple[str, ...]:
    """Stemmed terms; cached, because provider profiles are scored again on every query."""
    words = [word.lower() for word in _WORD.findall(text)]
    kept = [word for word in words if word not in _STOPWORDS and len(word) > 2]
    return tuple(_STEMMER.stemWords(kept))


@lru_cache(maxsize=200_000)
def _term_counts(text: str) -> Counter[str]:
    return Counter(tokens(text))


class Bm25:
    def __init__(self, documents: Iterable[str], k1: float = 1.4, b: float = 0.75) -> None:
        self._docs = [_term_counts(doc) for doc in documents]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        count = len(self._docs)
        self._idf = {
            term: math.log(1 + (count - df + 0.5) / (df + 0.5)) for term, df in frequency.items()
        }
        self.k1, self.b = k1, b

    def scores(self, query: str) -> list[float]:
        terms = set(tokens(query))
        results = []
        for doc, length in zip(self._docs, self._lengths, strict=True):
            score = 0.0
            for term in terms & doc.keys():
                tf = doc[term]
                norm = (
                    tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / self._avg))
                )
                score += self._idf[term] * norm
            results.append(score)
        return results
