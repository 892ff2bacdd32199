"""The vectorised index agrees with the one-at-a-time reference, also after changes."""

from __future__ import annotations

import random
from dataclasses import replace

from services.matching.domain.index import ProviderIndex
from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import Exposure, Ranking, rank
from shared.events.common import ServiceType
from werkbank.sample_data import NEEDS, PROVIDERS

TAXONOMY = Taxonomy.load()
CODES = sorted(TAXONOMY.categories)


def providers(count: int, seed: int = 3) -> list[Provider]:
    rng = random.Random(seed)
    result = []
    for index in range(count):
        _, categories, profile = PROVIDERS[index % len(PROVIDERS)][:3]
        result.append(
            Provider(
                provider_id=f"p{index}",
                name=f"p{index}",
                profile=profile,
                categories=tuple(categories),
                service_types=tuple(rng.sample(list(ServiceType), rng.randint(1, 5))),
                languages=tuple(rng.sample(["de", "en", "tr"], rng.randint(1, 2))),
                lat=51.5 + rng.uniform(-0.4, 0.4) if rng.random() > 0.1 else None,
                lon=7.46 + rng.uniform(-0.4, 0.4),
                radius_km=rng.choice([15.0, 30.0, 60.0]),
                price_min=rng.choice([None, 0, 500, 1200]),
                capacity=rng.randint(0, 5),
                booked=rng.randint(0, 2),
                blocked_companies=("c3",) if index % 17 == 0 else (),
                quality=rng.random(),
                levels=tuple((code, rng.randint(1, 3)) for code in categories),
                sectors=tuple(rng.sample(["C", "G", "I", "Q"], rng.randint(0, 2))),
                ratings=rng.choice([0, 0, 3]),
                kind="mentor" if index % 6 == 0 else "it_provider",
            )
        )
    return result


def needs(count: int, seed: int = 5) -> list[Need]:
    rng = random.Random(seed)
    result = []
    for index in range(count):
        category, service_type, title, description = NEEDS[index % len(NEEDS)]
        result.append(
            Need(
                need_id=f"n{index}",
                company_id=f"c{index % 5}",
                title=title,
                description=description,
                categories=(category, rng.choice(CODES)) if index % 3 == 0 else (category,),
                service_type=ServiceType(service_type),
                languages=("de",) if index % 4 else ("tr", "de"),
                lat=51.5 + rng.uniform(-0.3, 0.3) if index % 7 else None,
                lon=7.46 + rng.uniform(-0.3, 0.3),
                budget_max=rng.choice([None, 400, 1000]),
                sector=rng.choice(["C", "G", "I", None]),
                provider_kinds=("mentor", "it_provider") if index % 5 == 0 else (),
            )
        )
    return result


def same(left: Ranking, right: Ranking) -> None:
    assert [p.provider_id for p in left.proposals] == [p.provider_id for p in right.proposals]
    assert [(p.tied_with, p.band) for p in left.proposals] == [
        (p.tied_with, p.band) for p in right.proposals
    ]
    for a, b in zip(left.proposals, right.proposals, strict=True):
        assert abs(a.score - b.score) < 1e-9
        assert [(c.criterion, c.reason_de, c.reason_en) for c in a.breakdown] == [
            (c.criterion, c.reason_de, c.reason_en) for c in b.breakdown
        ]
    assert left.veto_counts == right.veto_counts


def test_the_index_ranks_exactly_like_the_reference() -> None:
    pool = providers(400)
    index = ProviderIndex(TAXONOMY, pool)
    for need in needs(40):
        keys = index.band_keys(index.candidates(need, top=10))
        exposure = {
            (band, pid): Exposure(int(pid[1:]) % 2, (int(pid[1:]) % 3) * 0.63)
            for pid, band in keys.items()
        }
        same(
            index.rank(need, exposure=exposure, top=10),
            rank(need, pool, TAXONOMY, exposure=exposure, top=10),
        )


def test_changes_and_removals_reach_the_next_query() -> None:
    pool = providers(200)
    index = ProviderIndex(TAXONOMY, pool)
    need = needs(1)[0]
    winner = index.rank(need, top=1).proposals[0].provider_id
    index.remove(winner)
    pool = [p for p in pool if p.provider_id != winner]
    same(index.rank(need, top=5), rank(need, pool, TAXONOMY, top=5))
    changed = replace(
        pool[7],
        profile=pool[7].profile + " " + need.description,
        categories=need.categories,
        quality=1.0,
        capacity=5,
        booked=0,
        languages=need.languages,
        service_types=tuple(ServiceType),
        radius_km=500.0,
    )
    index.upsert(changed)
    pool[7] = changed
    same(index.rank(need, top=5), rank(need, pool, TAXONOMY, top=5))
    assert changed.provider_id in [p.provider_id for p in index.rank(need, top=5).proposals]


def test_staff_blocks_veto_a_provider_for_one_need_only() -> None:
    pool = providers(100)
    index = ProviderIndex(TAXONOMY, pool)
    first, second = needs(2)
    blocked = index.rank(first, top=1).proposals[0].provider_id
    after = index.rank(first, top=5, excluded=frozenset({blocked}))
    assert blocked not in [p.provider_id for p in after.proposals]
    assert after.veto_counts["blocked by staff for this need"] == 1
    same(after, rank(first, pool, TAXONOMY, top=5, excluded=frozenset({blocked})))
    assert "blocked by staff for this need" not in index.rank(second).veto_counts
