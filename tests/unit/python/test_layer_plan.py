"""The layer plan: heavy distributions alone, small ones in groups fixed by name, volatile
versions apart, a hard cap, and a stable order, so what images share they share byte for
byte and a bump touches one layer."""

from __future__ import annotations

from packaging.version import Version

from lamina.python.layer_plan import HEAVY, MAX_LAYERS, RELEASE_GROUPS, plan_layers
from lamina.python.locked import LockedArtifact
from lamina.python.lockfile import LockedDist

MB = 1 << 20


def dist(name: str, version: str = "1.0", url: str | None = None) -> LockedDist:
    return LockedDist(name, Version(version), (LockedArtifact(f"{name}{version}".ljust(64, "0"), url=url),))


def names(units) -> list[list[str]]:
    return [[d.name for d in unit.dists] for unit in units]


SMALL = [dist(n) for n in ("attrs", "click", "idna", "six", "certifi", "docopt", "tabulate", "jinja2", "markupsafe")]


def test_heavy_distributions_own_a_layer_and_come_first_in_name_order():
    dists = [dist("numpy"), dist("pandas"), *SMALL]
    sizes = {"numpy": 40 * MB, "pandas": 60 * MB, **{d.name: 100_000 for d in SMALL}}
    units = plan_layers(dists, sizes)
    assert names(units)[:2] == [["numpy"], ["pandas"]] and units[0].heavy and units[1].heavy
    grouped = [n for unit in units[2:] for n in names([unit])[0]]
    assert sorted(grouped) == sorted(d.name for d in SMALL) and not any(u.heavy for u in units[2:])
    assert len(units) <= 2 + RELEASE_GROUPS


def test_a_distribution_lands_in_the_same_group_whatever_else_the_image_needs():
    sizes = {d.name: 1000 for d in SMALL}

    def group_of(name, dists):
        (unit,) = [u for u in plan_layers(dists, sizes) if name in [d.name for d in u.dists]]
        return {d.name for d in unit.dists}

    everything = group_of("docopt", SMALL)
    fewer = group_of("docopt", [d for d in SMALL if d.name not in ("attrs", "six")])
    assert fewer == everything - {"attrs", "six"}


def test_a_bump_changes_only_the_layer_of_the_bumped_distribution():
    sizes = {d.name: 1000 for d in SMALL} | {"numpy": HEAVY}
    before = plan_layers([dist("numpy"), *SMALL], sizes)
    bumped = [dist("numpy"), *(dist(d.name, "2.0") if d.name == "idna" else d for d in SMALL)]
    after = plan_layers(bumped, sizes)
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1 and "idna" in [d.name for d in changed[0][1].dists]


def test_pre_releases_local_versions_and_direct_references_change_often_and_sit_apart():
    volatile = [dist("nightly", "2.0.dev3"), dist("patched", "1.0+ours"), dist("vcs", url="git+https://example/vcs")]
    units = plan_layers([*SMALL, *volatile], {d.name: 1000 for d in [*SMALL, *volatile]})
    assert names(units)[-1] == ["nightly", "patched", "vcs"]


def test_the_number_of_layers_is_capped_and_the_biggest_keep_their_own():
    heavy = [dist(f"big{i:02}") for i in range(40)]
    sizes = {d.name: HEAVY + i * MB for i, d in enumerate(heavy)} | {d.name: 1000 for d in SMALL}
    units = plan_layers([*heavy, *SMALL], sizes)
    assert len(units) <= MAX_LAYERS
    own = {d.name for u in units if u.heavy for d in u.dists}
    assert own == {f"big{i:02}" for i in range(40 - len(own), 40)}  # the biggest ones
    assert sorted(n for u in units for n in [d.name for d in u.dists]) == sorted(d.name for d in [*heavy, *SMALL])
