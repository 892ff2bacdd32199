"""The first version's text scorer, kept only to compare against in the evaluation and bench.

Its terms: words, a short stop-word list, the Snowball stemmer; its text value: BM25 relative to
the best eligible candidate (so a single shared word could show as 100 %).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import snowballstemmer

from services.matching.domain.index import Floats, ProviderIndex
from services.matching.domain.model import Provider, Taxonomy

_STEMMER = snowballstemmer.stemmer("german")
_WORD = re.compile(r"[a-zäöüß0-9]+", re.IGNORECASE)
_STOPWORDS = frozenset(
    (
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
    )
)


@lru_cache(maxsize=200_000)
def legacy_tokens(text: str) -> tuple[str, ...]:
    words = [word.lower() for word in _WORD.findall(text)]
    kept = [word for word in words if word not in _STOPWORDS and len(word) > 2]
    return tuple(_STEMMER.stemWords(kept))


class LegacyTextIndex(ProviderIndex):
    """``ProviderIndex`` with the first version's terms and relative text scale."""

    def __init__(self, taxonomy: Taxonomy, providers: Iterable[Provider]) -> None:
        super().__init__(taxonomy, providers, analyse=legacy_tokens)

    def text_values(self, raw: Floats) -> Floats:
        best = float(raw.max()) if len(raw) and raw.max() else 1.0
        return np.asarray(raw / best, dtype=np.float64)
