"""Image references are read as Docker reads them; credentials never show in a repr."""

from __future__ import annotations

import pytest

from lamina.errors import RegistryError
from lamina.registry.auth import Credentials, parse_challenge
from lamina.registry.reference import Reference, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python:3.11-slim", Reference("index.docker.io", "library/python", "3.11-slim")),
        ("gcr.io/distroless/python3-debian12", Reference("gcr.io", "distroless/python3-debian12")),
        ("127.0.0.1:5000/ci/web:v1@" + DIGEST, Reference("127.0.0.1:5000", "ci/web", "v1", DIGEST)),
        ("localhost/team/app", Reference("localhost", "team/app")),
        ("python3.11:latest", Reference("index.docker.io", "library/python3.11", "latest")),
        ("docker.io/python:3.12", Reference("index.docker.io", "library/python", "3.12")),  # Docker Hub's names
        ("registry-1.docker.io/team/app", Reference("index.docker.io", "team/app")),
    ],
)
def test_parse_reference(text, expected):
    assert parse_reference(text) == expected


def test_round_trip_loopback_and_identifier():
    reference = parse_reference("127.0.0.1:5000/ci/web:v1")
    assert str(reference) == "127.0.0.1:5000/ci/web:v1" and reference.is_loopback
    assert reference.identifier == "v1" and reference.with_digest(DIGEST).identifier == DIGEST
    assert not parse_reference("ghcr.io/a/b").is_loopback


@pytest.mark.parametrize("text", ["Web/App", "ci/web@sha256:abc", "ci/web:bad tag", ""])
def test_malformed_references_are_clear_errors(text):
    with pytest.raises(RegistryError):
        parse_reference(text)


def test_challenges_and_credentials():
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:a/b:pull"'
    )
    assert scheme == "bearer" and params["realm"] == "https://auth.example.org/token"
    assert params["scope"] == "repository:a/b:pull"
    assert parse_challenge('Basic realm="lamina"')[0] == "basic"
    credentials = Credentials("ci", "hunter2")
    assert "hunter2" not in repr(credentials) and credentials.basic() == "Basic Y2k6aHVudGVyMg=="
