"""What each criterion's value means, in words for staff (German and English).

Every reason states the value's meaning, including the neutral values: a provider with no
feedback yet, an unknown distance, a missing budget or price. Pure functions, no I/O.
"""

from __future__ import annotations

from services.matching.domain.model import Need, Provider, Taxonomy

NEUTRAL_QUALITY = 0.5  # the prior of every provider, weighted as two ratings (see repository)

LANGUAGES = {
    "de": ("Deutsch", "German"),
    "en": ("Englisch", "English"),
    "tr": ("Türkisch", "Turkish"),
    "pl": ("Polnisch", "Polish"),
    "ru": ("Russisch", "Russian"),
    "uk": ("Ukrainisch", "Ukrainian"),
    "ar": ("Arabisch", "Arabic"),
    "fr": ("Französisch", "French"),
    "it": ("Italienisch", "Italian"),
    "es": ("Spanisch", "Spanish"),
    "nl": ("Niederländisch", "Dutch"),
    "el": ("Griechisch", "Greek"),
    "ro": ("Rumänisch", "Romanian"),
    "fa": ("Persisch", "Persian"),
    "ku": ("Kurdisch", "Kurdish"),
}
LEVELS = {
    1: ("Grundlagen", "basic"),
    2: ("fortgeschritten", "advanced"),
    3: ("Expertise", "expert"),
}

Reasons = tuple[str, str]


def language_names(codes: tuple[str, ...] | list[str]) -> Reasons:
    names = [LANGUAGES.get(code, (code, code)) for code in codes]
    return ", ".join(de for de, _ in names), ", ".join(en for _, en in names)


def language(need: Need, provider: Provider, value: float) -> Reasons:
    preferred_de, preferred_en = language_names(need.languages[:1])
    if value == 1.0:
        return (
            f"spricht die bevorzugte Sprache ({preferred_de})",
            f"speaks the preferred language ({preferred_en})",
        )
    common = [code for code in need.languages if code in provider.languages]
    common_de, common_en = language_names(common)
    return (
        f"spricht nicht die bevorzugte Sprache ({preferred_de}), aber {common_de}: halbe Punktzahl",
        f"does not speak the preferred language ({preferred_en}), but {common_en}: half credit",
    )


def quality(provider: Provider) -> Reasons:
    if provider.ratings == 0:
        return (
            f"noch keine Rückmeldungen: neutraler Ausgangswert {NEUTRAL_QUALITY:.0%}",
            f"no feedback yet: neutral prior {NEUTRAL_QUALITY:.0%}",
        )
    return (
        f"{provider.ratings} Rückmeldungen, geglättet {provider.quality:.0%} zufrieden",
        f"{provider.ratings} ratings, smoothed {provider.quality:.0%} satisfied",
    )


def distance(provider: Provider, km: float | None) -> Reasons:
    if km is None:
        return (
            "Entfernung unbekannt (ein Standort fehlt): volle Punktzahl",
            "distance unknown (a location is missing): full credit",
        )
    radius = provider.radius_km
    return (
        f"{km:.0f} km entfernt, Einsatzradius {radius:.0f} km",
        f"{km:.0f} km away, service radius {radius:.0f} km",
    )


def budget(need: Need, provider: Provider) -> Reasons:
    if need.budget_max is None:
        return "kein Budget angegeben: volle Punktzahl", "no budget given: full credit"
    if provider.price_min is None:
        return (
            "Preis des Anbieters unbekannt: volle Punktzahl",
            "provider's price unknown: full credit",
        )
    price, limit = provider.price_min, need.budget_max
    if price <= limit:
        return (
            f"Einstiegspreis {price} € im Budget von {limit} €",
            f"starting price €{price} within the budget of €{limit}",
        )
    return (
        f"Einstiegspreis {price} € über dem Budget von {limit} €",
        f"starting price €{price} above the budget of €{limit}",
    )


def sector(need: Need, provider: Provider, value: float) -> Reasons:
    if not provider.sectors:
        return "arbeitet branchenübergreifend: halbe Punktzahl", "works across sectors: half credit"
    if need.sector is None:
        return (
            "Branche des Unternehmens unbekannt: halbe Punktzahl",
            "company's sector unknown: half credit",
        )
    if value == 1.0:
        return f"kennt die Branche (WZ {need.sector})", f"knows the sector (WZ {need.sector})"
    return (
        f"keine Erfahrung in der Branche (WZ {need.sector})",
        f"no experience in the sector (WZ {need.sector})",
    )


def taxonomy(
    need: Need, provider: Provider, taxonomy: Taxonomy, exact: list[str], related: list[str]
) -> Reasons:
    """Exact topics with the provider's level; a related topic named with the one it stands for."""
    parts_de, parts_en = [], []
    for code in exact:
        category = taxonomy.categories[code]
        level_de, level_en = LEVELS[provider.level(code)]
        parts_de.append(f"{category.label_de} ({level_de})")
        parts_en.append(f"{category.label_en} ({level_en})")
    de = f"passende Themen: {', '.join(parts_de)}" if parts_de else "keine passenden Themen"
    en = f"matching topics: {', '.join(parts_en)}" if parts_en else "no matching topics"
    for code in related:
        wanted = taxonomy.categories[code]
        near = [
            taxonomy.categories[other]
            for other in provider.categories
            if other in taxonomy.categories and taxonomy.related(code, other)
        ]
        near_de, near_en = ", ".join(c.label_de for c in near), ", ".join(c.label_en for c in near)
        de += f"; verwandt: {near_de} statt {wanted.label_de} (halbe Punktzahl)"
        en += f"; related: {near_en} instead of {wanted.label_en} (half credit)"
    return de, en


def tie(others: int) -> Reasons:
    providers_de = "einem weiteren Anbieter" if others == 1 else f"{others} weiteren Anbietern"
    providers_en = "one other provider" if others == 1 else f"{others} other providers"
    return (
        f"gleichauf mit {providers_de}; Reihenfolge nach ausgewogener Sichtbarkeit",
        f"tied with {providers_en}; order by balanced exposure",
    )
