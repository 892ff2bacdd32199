"""Scoring, vetoes and neutral rotation: pure domain tests."""

from __future__ import annotations

from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import Exposure, attention, rank
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


def provider(provider_id: str, **overrides: object) -> Provider:
    values: dict[str, object] = {
        "provider_id": provider_id,
        "name": provider_id,
        "profile": "Social Media Beratung für Instagram und Facebook",
        "categories": ("market.social",),
    }
    values.update(overrides)
    return Provider(**values)  # type: ignore[arg-type]


def test_a_parent_or_sibling_category_earns_half_the_taxonomy_credit() -> None:
    ranking = rank(need(), [provider("p1", categories=("market.seo",))], TAXONOMY)
    [scored] = ranking.proposals
    assert scored.breakdown[0].value == 0.5


def test_vetoes_come_before_scores() -> None:
    providers = [
        provider("blocked", blocked_companies=("c1",)),
        provider("full", capacity=1, booked=1),
        provider("english", languages=("en",)),
        provider("ok"),
    ]
    ranking = rank(need(), providers, TAXONOMY)
    assert [p.provider_id for p in ranking.proposals] == ["ok"]
    assert {v.provider_id for v in ranking.vetoed} == {"blocked", "full", "english"}


def test_equally_good_providers_take_turns_by_exposure() -> None:
    equals = [provider(f"p{i}") for i in range(3)]
    top = rank(need(), equals, TAXONOMY, top=1).proposals[0]
    first, band = top.provider_id, top.band
    shown = {(band, first): Exposure(1, 1.0)}
    second = rank(need(), equals, TAXONOMY, exposure=shown, top=1).proposals[0].provider_id
    assert second != first
    shown[band, second] = Exposure(1, 1.0)
    third = rank(need(), equals, TAXONOMY, exposure=shown, top=1).proposals[0].provider_id
    assert third not in {first, second}


def test_the_same_inputs_give_the_same_ranking() -> None:
    equals = [provider(f"p{i}") for i in range(5)]
    runs = {
        tuple(p.provider_id for p in rank(need(), equals, TAXONOMY).proposals) for _ in range(3)
    }
    assert len(runs) == 1


def test_ties_are_marked_in_the_explanation() -> None:
    equals = [provider(f"p{i}") for i in range(3)]
    first = rank(need(), equals, TAXONOMY).proposals[0]
    assert first.tied_with == 2
    assert first.tie_reasons == (
        "gleichauf mit 2 weiteren Anbietern; Reihenfolge nach ausgewogener Sichtbarkeit",
        "tied with 2 other providers; order by balanced exposure",
    )
    alone = rank(need(), [provider("p0")], TAXONOMY).proposals[0]
    assert alone.tie_reasons is None


def test_a_first_place_weighs_more_than_a_later_one() -> None:
    assert attention(1) == 1.0
    assert attention(1) > attention(2) > attention(5) > 0


def test_turns_at_the_top_follow_positional_exposure() -> None:
    equals = [provider(f"p{i}") for i in range(4)]
    ledger: dict[tuple[str, str], Exposure] = {}
    firsts = []
    for _ in range(8):
        proposals = rank(need(), equals, TAXONOMY, exposure=ledger, top=3).proposals
        firsts.append(proposals[0].provider_id)
        for position, scored in enumerate(proposals, start=1):
            seat = (scored.band, scored.provider_id)
            ledger[seat] = ledger.get(seat, Exposure()).after(position)
    assert sorted(firsts[:4]) == ["p0", "p1", "p2", "p3"], "each of four equals leads once"
    assert sorted(firsts[4:]) == ["p0", "p1", "p2", "p3"]
    second_places = [rank(need(), equals, TAXONOMY, exposure=ledger, top=3).proposals[1]]
    assert second_places[0].provider_id != firsts[-1]
