"""WZ 2008 (the German NACE): which section a company's economic-activity code belongs to."""

from __future__ import annotations

# Section letter by the first division (two digits) of each section.
_SECTIONS = (
    (1, "A"), (5, "B"), (10, "C"), (35, "D"), (36, "E"), (41, "F"), (45, "G"), (49, "H"),
    (55, "I"), (58, "J"), (64, "K"), (68, "L"), (69, "M"), (77, "N"), (84, "O"), (85, "P"),
    (86, "Q"), (90, "R"), (94, "S"), (97, "T"), (99, "U"),
)  # fmt: skip
SECTION_LETTERS = frozenset(letter for _, letter in _SECTIONS)


def wz_section(code: str | None) -> str | None:
    """'46.73' -> 'G' (wholesale and retail trade); None when the code is missing or unknown."""
    if not code or not code[:2].isdigit():
        return None
    division = int(code[:2])
    section = None
    for first, letter in _SECTIONS:
        if division >= first:
            section = letter
    return section
