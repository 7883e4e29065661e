"""Resolving Debian dependencies: alternatives, virtual packages, versions, exclusions."""

from __future__ import annotations

import pytest

from lamina.debian.archive import Candidate
from lamina.debian.resolve import Resolver
from lamina.errors import ResolveError


def _pkg(name, version="1.0", depends="", pre_depends="", provides=""):
    return Candidate(name, version, "amd64", depends, pre_depends, provides, f"https://m/{name}.deb", 1, "0" * 64)


def _names(resolved):
    return {c.name: c.version for c in resolved}


def test_closure_follows_depends_and_pre_depends_newest_version_first():
    resolver = Resolver(
        [
            _pkg("app", depends="libfoo (>= 2), libbar"),
            _pkg("libfoo", "1.5"),
            _pkg("libfoo", "2.1", pre_depends="libc6"),
            _pkg("libfoo", "2.0"),
            _pkg("libbar", depends="libc6 (>= 2.36)"),
            _pkg("libc6", "2.36-9+deb12u4"),
            _pkg("libc6", "2.36-9+deb12u10"),  # Debian version order, not string order
        ],
        exclude=(),
    )
    assert _names(resolver.resolve(["app"])) == {
        "app": "1.0", "libbar": "1.0", "libc6": "2.36-9+deb12u10", "libfoo": "2.1"
    }  # fmt: skip


def test_alternatives_prefer_what_is_picked_then_the_first_that_exists():
    candidates = [
        _pkg("app", depends="mime-support | media-types, awk-alt | mawk"),
        _pkg("media-types"),
        _pkg("mawk"),
        _pkg("gawk"),
    ]
    assert set(_names(Resolver(candidates, exclude=()).resolve(["app"]))) == {"app", "media-types", "mawk"}
    assert set(_names(Resolver(candidates, exclude=()).resolve(["app", "gawk"]))) == {
        "app", "gawk", "media-types", "mawk"
    }  # fmt: skip


def test_virtual_packages_through_provides_with_versions():
    candidates = [
        _pkg("app", depends="python3-abi (= 3.11), libz-virtual"),
        _pkg("python3.11-minimal", "3.11.2", provides="python3-abi (= 3.11)"),
        _pkg("python3.12-minimal", "3.12.1", provides="python3-abi (= 3.12)"),
        _pkg("zlib-ng", provides="libz-virtual"),
        _pkg("zlib1g", provides="libz-virtual"),
    ]
    assert set(_names(Resolver(candidates, exclude=()).resolve(["app"]))) == {"app", "python3.11-minimal", "zlib-ng"}
    # a provider already picked wins over the first by name
    assert "zlib-ng" not in _names(Resolver(candidates, exclude=()).resolve(["zlib1g", "app"]))


def test_package_manager_packages_are_left_out_unless_asked_for():
    candidates = [
        _pkg("ca-certificates", depends="openssl, debconf (>= 0.5) | debconf-2.0"),
        _pkg("openssl"),
        _pkg("debconf", provides="debconf-2.0"),
        _pkg("tzdata", depends="debconf | debconf-2.0"),
    ]
    assert set(_names(Resolver(candidates).resolve(["ca-certificates", "tzdata"]))) == {
        "ca-certificates", "openssl", "tzdata"
    }  # fmt: skip
    assert "openssl" not in _names(Resolver(candidates, exclude=("openssl", "debconf")).resolve(["ca-certificates"]))
    assert "debconf" in _names(Resolver(candidates).resolve(["debconf"]))  # asked for by name


def test_pinned_request_and_errors_name_the_chain_and_the_fix():
    candidates = [_pkg("app", "1.0"), _pkg("app", "2.0", depends="libgone (>= 3)"), _pkg("libgone", "2.0")]
    assert _names(Resolver(candidates, exclude=()).resolve(["app=1.0"])) == {"app": "1.0"}
    with pytest.raises(ResolveError, match=r"app depends on libgone \(>= 3\), which no package .* exclude="):
        Resolver(candidates, exclude=()).resolve(["app"])
    with pytest.raises(ResolveError, match="no package 'ap' in the sources; did you mean 'app'"):
        Resolver(candidates, exclude=()).resolve(["ap"])
