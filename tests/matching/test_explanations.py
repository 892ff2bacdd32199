"""Explanations say what each value means; mentors and IT providers serve different needs."""

from __future__ import annotations

from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import Criterion, Scored, rank
from shared.events.common import ServiceType

TAXONOMY = Taxonomy.load()


def need(**overrides: object) -> Need:
    values: dict[str, object] = {
        "need_id": "n1",
        "company_id": "c1",
        "title": "Social Media",
        "description": "Wir möchten auf Instagram sichtbarer werden.",
        "categories": ("market.social",),
        "service_type": ServiceType.FIRST_ADVICE,
    }
    values.update(overrides)
    return Need(**values)  # type: ignore[arg-type]


def provider(provider_id: str = "p1", **overrides: object) -> Provider:
    values: dict[str, object] = {
        "provider_id": provider_id,
        "name": provider_id,
        "profile": "Social Media Beratung für Instagram und Facebook",
        "categories": ("market.social",),
    }
    values.update(overrides)
    return Provider(**values)  # type: ignore[arg-type]


def only(wanted: Need, offered: Provider) -> Scored:
    [scored] = rank(wanted, [offered], TAXONOMY).proposals
    return scored


def criterion(scored: Scored, name: str) -> Criterion:
    return next(c for c in scored.breakdown if c.criterion == name)


def test_half_credit_for_language_says_the_preferred_one_is_not_spoken() -> None:
    scored = only(need(languages=("tr", "de")), provider(languages=("de",)))
    language = criterion(scored, "language")
    assert language.value == 0.5
    assert language.reason_de.startswith("spricht nicht die bevorzugte Sprache (Türkisch)")
    assert "aber Deutsch" in language.reason_de
    assert "does not speak the preferred language (Turkish)" in language.reason_en


def test_full_credit_for_language_names_it() -> None:
    language = criterion(only(need(), provider()), "language")
    assert (language.value, language.reason_de) == (1.0, "spricht die bevorzugte Sprache (Deutsch)")


def test_no_feedback_says_so_and_uses_the_neutral_prior() -> None:
    quality = criterion(only(need(), provider()), "quality")
    assert quality.value == 0.5
    assert quality.reason_de == "noch keine Rückmeldungen: neutraler Ausgangswert 50%"
    rated = criterion(only(need(), provider(quality=0.8, ratings=4)), "quality")
    assert rated.reason_de == "4 Rückmeldungen, geglättet 80% zufrieden"


def test_a_related_topic_is_named_not_counted() -> None:
    scored = only(need(), provider(categories=("market.seo",)))
    taxonomy = criterion(scored, "taxonomy")
    assert "verwandt: Auffindbarkeit und SEO statt Social Media" in taxonomy.reason_de
    assert "related: Findability and SEO instead of Social media" in taxonomy.reason_en


def test_unknown_values_say_what_credit_they_earn() -> None:
    scored = only(need(budget_max=None), provider())
    assert criterion(scored, "distance").reason_de.endswith("volle Punktzahl")
    assert criterion(scored, "budget").reason_de == "kein Budget angegeben: volle Punktzahl"
    assert criterion(scored, "sector").reason_de.endswith("halbe Punktzahl")


def test_mentors_match_mentoring_needs_and_it_providers_the_rest() -> None:
    both = [provider("it"), provider("mentor", kind="mentor")]
    mentoring = rank(need(service_type=ServiceType.MENTORING), both, TAXONOMY)
    advice = rank(need(), both, TAXONOMY)
    assert [p.provider_id for p in mentoring.proposals] == ["mentor"]
    assert [p.provider_id for p in advice.proposals] == ["it"]
    assert advice.veto_counts == {
        "other kind of provider (mentors for mentoring, IT providers otherwise)": 1
    }


def test_staff_may_open_a_need_to_both_kinds() -> None:
    both = [provider("it"), provider("mentor", kind="mentor")]
    opened = rank(need(provider_kinds=("mentor", "it_provider")), both, TAXONOMY)
    assert {p.provider_id for p in opened.proposals} == {"it", "mentor"}
