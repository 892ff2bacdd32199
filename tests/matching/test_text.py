"""German text relevance: stop words, compounds, plurals, homographs and an absolute scale."""

from __future__ import annotations

from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import rank
from services.matching.domain.text import Bm25, compound_parts, relevance, tokens
from shared.events.common import ServiceType

TAXONOMY = Taxonomy.load()


def need(description: str, categories: tuple[str, ...] = ("market.recruiting",)) -> Need:
    return Need(
        need_id="n1",
        company_id="c1",
        title="Bedarf",
        description=description,
        categories=categories,
        service_type=ServiceType.IMPLEMENTATION,
    )


def provider(provider_id: str, profile: str, categories: tuple[str, ...]) -> Provider:
    return Provider(
        provider_id=provider_id, name=provider_id, profile=profile, categories=categories
    )


def shares_a_term(first: str, second: str) -> bool:
    return bool(set(tokens(first)) & set(tokens(second)))


def test_a_compound_meets_its_parts() -> None:
    assert shares_a_term("Wir suchen Pflegefachkräfte", "Recruiting für die Pflege")
    assert shares_a_term("Kassendaten auswerten", "Anbindung an jede Kasse")
    assert {"pflege", "fachkräfte", "kräfte"} <= set(compound_parts("pflegefachkräfte"))


def test_a_plural_on_s_meets_its_singular() -> None:
    assert tokens("Onlineshops") == tokens("Onlineshop")
    assert tokens("Chats") == tokens("Chat")


def test_everyday_words_are_no_terms() -> None:
    assert tokens("per finden eigenen Ihr Antwort") == ()


def test_maps_are_not_a_loyalty_card() -> None:
    assert not shares_a_term("Karten", "Karte")
    assert not shares_a_term("auf Google Karten gefunden werden", "eine digitale Karte")


def test_a_simple_word_is_not_split() -> None:
    assert compound_parts("digitalisierung") == ()
    assert compound_parts("bestellungen") == ()


def test_the_text_value_does_not_depend_on_the_best_candidate() -> None:
    query = "Chat für Stammkunden"
    alone = Bm25(["Wir bauen Chat-Lösungen", "Steuerberatung"]).scores(query)
    assert 0 < relevance(alone[0]) < 0.6, "one shared word is a little relevance, not 100 %"


def test_one_shared_word_does_not_outweigh_the_taxonomy() -> None:
    wanted = need("Wir suchen Auszubildende über Instagram", ("market.recruiting",))
    fitting = provider("fit", "Wir gewinnen Personal für Handwerksbetriebe", ("market.recruiting",))
    stray = provider("stray", "Instagram-Schulungen für Kanzleien", ("security.awareness",))
    ranking = rank(wanted, [stray, fitting], TAXONOMY)
    assert ranking.proposals[0].provider_id == "fit"


def test_the_explanation_names_the_shared_words() -> None:
    wanted = need(
        "Chat für Stammkunden, damit Lieferzeiten schneller geklärt sind", ("market.chat",)
    )
    chat = provider(
        "chat", "Chat mit Stammkunden über Lieferzeiten und Bestellungen", ("market.chat",)
    )
    [scored] = rank(wanted, [chat], TAXONOMY).proposals
    text = next(c for c in scored.breakdown if c.criterion == "text")
    assert "gemeinsame Begriffe: Chat, Stammkunden, Lieferzeiten" in text.reason_de
    assert "terms in common: Chat, Stammkunden, Lieferzeiten" in text.reason_en
