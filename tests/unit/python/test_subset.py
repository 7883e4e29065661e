"""Subsetting walks real locks with real dependency metadata: markers are evaluated for
the target (not this host), extras pull in their dependencies, and any gap between the
lock and what is required is an error naming the requirement, who needs it and the fix."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from lamina.errors import ResolveError
from lamina.python.lockfile import LockedDist, Lockfile, load_lockfile
from lamina.python.platform import TargetPlatform
from lamina.python.subset import subset_lock

LOCKS = Path(__file__).resolve().parents[2] / "data" / "locks"
RESOLVE = "python-default"


def target(python_version: str, machine: str = "x86_64") -> TargetPlatform:
    return TargetPlatform(
        python_version=python_version,
        interpreter=f"/usr/local/bin/python{'.'.join(python_version.split('.')[:2])}",
        machine=machine,
        libc="glibc",
        libc_version=(2, 36),
        stdlib_dir="/usr/local/lib/python3",
    )


class WheelMetadata:
    """Requires-Dist of the locked wheels, as read from their METADATA on PyPI; counts calls."""

    def __init__(self) -> None:
        self.requires = json.loads((LOCKS / "httpx-socks.requires-dist.json").read_text())
        self.calls: Counter[str] = Counter()

    def __call__(self, dist: LockedDist) -> list[Requirement]:
        key = f"{dist.name}=={dist.version}"
        self.calls[key] += 1
        return [Requirement(text) for text in self.requires[key]]


def no_metadata(dist: LockedDist) -> list[Requirement]:
    raise AssertionError(f"a pex lock records dependencies; metadata of {dist.name} was asked for")


@pytest.fixture
def pip_tools_lock() -> Lockfile:
    return load_lockfile(LOCKS / "httpx-socks.lock")


@pytest.fixture
def pex_lock() -> Lockfile:
    return load_lockfile(LOCKS / "pants-python-default.lock")


def closure(lock: Lockfile, *roots: str, python: str = "3.11") -> list[str]:
    """Names of the distributions ``roots`` need from ``lock`` on CPython ``python``."""
    requirements = [Requirement(root) for root in roots]
    return names(subset_lock(lock, requirements, target(python), WheelMetadata(), RESOLVE))


def names(dists: list[LockedDist]) -> list[str]:
    return [dist.name for dist in dists]


def roots_the_lock_was_made_from() -> list[Requirement]:
    lines = (LOCKS / "httpx-socks.in").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip()]


# -- pip-tools lock + metadata --------------------------------------------------------------


def test_the_roots_of_a_lock_need_all_of_it_on_the_python_it_was_made_for(pip_tools_lock):
    metadata = WheelMetadata()

    dists = subset_lock(pip_tools_lock, roots_the_lock_was_made_from(), target("3.11.2"), metadata, RESOLVE)

    assert names(dists) == list(pip_tools_lock.dists)
    assert all(count == 1 for count in metadata.calls.values())
    assert set(metadata.calls) == {f"{d.name}=={d.version}" for d in dists}


def test_markers_are_evaluated_for_the_target_python(pip_tools_lock):
    everything = set(pip_tools_lock.dists)
    roots = roots_the_lock_was_made_from()

    on_312 = subset_lock(pip_tools_lock, roots, target("3.12.1"), WheelMetadata(), RESOLVE)
    on_315 = subset_lock(pip_tools_lock, roots, target("3.15"), WheelMetadata(), RESOLVE)

    assert set(names(on_312)) == everything - {"exceptiongroup"}
    assert set(names(on_315)) == everything - {"exceptiongroup", "typing-extensions"}


def test_extras_bring_their_dependencies(pip_tools_lock):
    plain = closure(pip_tools_lock, "httpx==0.27.0")
    socks = closure(pip_tools_lock, "HTTPX[Socks]")

    assert "socksio" not in plain
    assert set(socks) == set(plain) | {"socksio"}


def test_a_lock_lines_false_marker_leaves_the_distribution_out(pip_tools_lock):
    assert closure(pip_tools_lock, "exceptiongroup", python="3.11") == ["exceptiongroup"]
    assert closure(pip_tools_lock, "exceptiongroup", python="3.12") == []


def test_a_root_whose_marker_is_false_is_not_needed(pip_tools_lock):
    assert closure(pip_tools_lock, 'httpx==0.27.0; sys_platform == "win32"', "certifi") == ["certifi"]


def test_result_is_sorted_and_independent_of_root_order(pip_tools_lock):
    roots = roots_the_lock_was_made_from()

    forward = subset_lock(pip_tools_lock, roots, target("3.11"), WheelMetadata(), RESOLVE)
    backward = subset_lock(pip_tools_lock, roots[::-1], target("3.11"), WheelMetadata(), RESOLVE)

    assert forward == backward
    assert names(forward) == sorted(names(forward))


def test_a_dependency_of_an_extra_missing_from_the_lock(pip_tools_lock):
    with pytest.raises(ResolveError) as raised:
        closure(pip_tools_lock, "httpx[http2]==0.27.0")

    message = str(raised.value)
    assert '`h2<5,>=3; extra == "http2"` (needed by httpx==0.27.0[http2]) is not in the lock' in message
    assert str(pip_tools_lock.path) in message
    assert f"`lamina generate-lockfiles --resolve={RESOLVE}`" in message


def test_a_root_missing_from_the_lock(pip_tools_lock):
    expected = r"`flask>=3` \(a root requirement\) is not in the lock .*--resolve=web"
    with pytest.raises(ResolveError, match=expected):
        subset_lock(pip_tools_lock, [Requirement("flask>=3")], target("3.11"), WheelMetadata(), "web")


def test_a_root_the_pin_does_not_satisfy(pip_tools_lock):
    expected = r"`httpx>=0\.28` \(a root requirement\) is not satisfied by httpx==0\.27\.0"
    with pytest.raises(ResolveError, match=expected):
        closure(pip_tools_lock, "httpx>=0.28")


def test_a_transitive_requirement_the_pin_does_not_satisfy(tmp_path):
    stale = tmp_path / "stale.lock"
    stale.write_text((LOCKS / "httpx-socks.lock").read_text().replace("idna==3.20", "idna==2.7"))
    metadata = WheelMetadata()
    metadata.requires["idna==2.7"] = []

    with pytest.raises(ResolveError) as raised:
        subset_lock(load_lockfile(stale), [Requirement("httpx")], target("3.11"), metadata, RESOLVE)

    message = str(raised.value)
    assert "`idna>=2.8` (needed by anyio==4.16.0) is not satisfied by idna==2.7" in message
    assert str(stale) in message


# -- pex lock: dependencies come from the lock ----------------------------------------------


def test_pex_lock_dependencies_come_from_the_lock(pex_lock):
    dists = subset_lock(pex_lock, [Requirement("pytest==7.1.3")], target("3.9.18"), no_metadata, RESOLVE)

    # colorama is for win32 only and importlib-metadata for Python < 3.8: neither is needed.
    assert names(dists) == ["attrs", "iniconfig", "packaging", "pluggy", "py", "pytest", "tomli"]


def test_pex_lock_on_an_older_python_needs_what_the_lock_lacks(pex_lock):
    expected = r"`importlib-metadata>=0\.12; python_version < \"3\.8\"` \(needed by pytest==7\.1\.3\)"
    with pytest.raises(ResolveError, match=expected):
        subset_lock(pex_lock, [Requirement("pytest")], target("3.7.16"), no_metadata, RESOLVE)
