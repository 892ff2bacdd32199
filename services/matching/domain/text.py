"""Text relevance of a need against provider profiles: BM25 over German-aware terms.

A text is analysed into terms in four steps:
1. words, less stop words (the German list of the ``stop-words`` package and our own
   ``lexicon/everyday_words.txt``, words such as "per", "finden" or "Antwort" that name no topic);
2. compounds split into their parts by word frequency (Koehn & Knight 2003, with the German list
   of ``wordfreq``): "Pflegefachkräfte" gives "Pflegefachkräfte", "Pflege", "Fachkräfte", "Fach",
   "Kräfte", so it meets a profile that says "Pflege"; English words ("Workshops") stay whole;
3. loan words' plurals on -s folded ("Onlineshops" -> "Onlineshop"), which Snowball leaves alone;
4. the Snowball German stemmer, except for homographs whose stems would collide
   ("Karten", maps, is not "Karte", a loyalty card).

The score is on an absolute scale (``relevance``), not relative to the best candidate: one shared
word reads as a little relevance, never as 100 %.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import snowballstemmer
from stop_words import get_stop_words
from wordfreq import zipf_frequency

_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("german")
_EVERYDAY = Path(__file__).parent / "lexicon" / "everyday_words.txt"
MIN_PART = 4  # shortest compound part: shorter ones ("per", "ein") split words wrongly
KNOWN_ZIPF = 3.0  # a word seen at least once per million words counts as a German word
# Stems that Snowball would merge although the words mean different things here.
KEEP_APART = {"karte": "karte", "karten": "karten#plural"}
# BM25 -> [0, 1): one distinctive shared term gives about 0.3, three about 0.65, six about 0.9.
TEXT_SCALE = 8.0


def _read_everyday() -> frozenset[str]:
    lines = _EVERYDAY.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


STOPWORDS = frozenset(get_stop_words("de")) | _read_everyday()


@lru_cache(maxsize=500_000)
def _zipf(word: str) -> float:
    return zipf_frequency(word, "de")


def _as_word(modifier: str) -> str | None:
    """The known word a compound's modifier stands for, with or without its linking element."""
    if _zipf(modifier) >= KNOWN_ZIPF:
        return modifier
    forms = [modifier + "e", modifier + "n", modifier + "en"]
    for link in ("s", "es", "n", "en", "e"):
        if modifier.endswith(link) and len(modifier) - len(link) >= MIN_PART:
            forms.append(modifier[: -len(link)])
    best = max(forms, key=_zipf)
    return best if _zipf(best) >= KNOWN_ZIPF else None


@lru_cache(maxsize=200_000)
def _best_split(word: str) -> tuple[float, tuple[str, ...]]:
    """The parts of ``word`` with the highest mean word frequency; the word itself may win."""
    best: tuple[float, tuple[str, ...]] = (
        (_zipf(word), (word,)) if _zipf(word) >= KNOWN_ZIPF else (0.0, ())
    )
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        modifier = _as_word(word[:cut])
        if modifier is None:
            continue
        rest_score, rest = _best_split(word[cut:])
        if not rest:
            continue
        score = (_zipf(modifier) + rest_score * len(rest)) / (1 + len(rest))
        if score > best[0]:
            best = (score, (modifier, *rest))
    return best


@lru_cache(maxsize=200_000)
def _english(word: str) -> bool:
    """An English word in a German text ("Workshops", "handmade") is not a German compound."""
    english = zipf_frequency(word, "en")
    return english >= KNOWN_ZIPF and english > _zipf(word)


@lru_cache(maxsize=200_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a compound and the shorter compounds within it; empty for a simple word."""
    if len(word) < 2 * MIN_PART or _english(word):
        return ()
    _, parts = _best_split(word)
    if len(parts) < 2:
        return ()
    inner = tuple(
        "".join(parts[start:end])
        for start in range(len(parts))
        for end in range(start + 2, len(parts) + 1)
        if end - start < len(parts)
    )
    return tuple(dict.fromkeys((*parts, *inner)))


def _fold_plural(word: str) -> str:
    singular = word[:-1]
    if word.endswith("s") and len(singular) >= MIN_PART and _zipf(singular) >= KNOWN_ZIPF:
        return singular
    return word


def _term(word: str) -> str:
    word = _fold_plural(word)
    return KEEP_APART.get(word) or _STEMMER.stemWord(word)


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    if word in STOPWORDS or len(word) <= 2:
        return ()
    parts = [p for p in compound_parts(word) if p not in STOPWORDS and len(p) >= MIN_PART]
    return tuple(dict.fromkeys(_term(w) for w in (word, *parts)))


@lru_cache(maxsize=200_000)
def analyse(text: str) -> tuple[tuple[str, str], ...]:
    """(term, the word of the text it came from) for every term; cached per text."""
    return tuple(
        (term, surface) for surface in _WORD.findall(text) for term in _word_terms(surface.lower())
    )


def word_terms(text: str) -> tuple[str, ...]:
    """The term of each whole word, without the parts of compounds (for word lists)."""
    return tuple(terms[0] for w in _WORD.findall(text) if (terms := _word_terms(w.lower())))


@lru_cache(maxsize=200_000)
def tokens(text: str) -> tuple[str, ...]:
    """The terms of a text; cached, because provider profiles are scored again on every query."""
    return tuple(term for term, _ in analyse(text))


def matched_words(query: str, profile: str, limit: int = 6) -> tuple[str, ...]:
    """The words of the query that share a term with the profile, in the query's order."""
    shared = set(tokens(profile))
    words = dict.fromkeys(surface for term, surface in analyse(query) if term in shared)
    return tuple(words)[:limit]


def relevance(bm25: float) -> float:
    """BM25 on a fixed scale from 0 to 1, the same for every candidate and every need."""
    return 1.0 - math.exp(-bm25 / TEXT_SCALE)


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
