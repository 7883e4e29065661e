"""Secrets are masked in any text, and split off configured URLs before anything else sees them."""

from __future__ import annotations

from lamina.redact import Credentials, redact, split_credentials, with_credentials


def test_passwords_tokens_and_authorization_values_are_masked():
    text = (
        "cannot download https://ci:s3cr%40t@pypi.example.com/simple/x/ (Authorization: Basic Y2k6czNjcmV0) "
        "token Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig and https://s3/blob?X-Amz-Signature=abc123&sig=def"
    )
    masked = redact(text)
    for secret in ("s3cr%40t", "Y2k6czNjcmV0", "eyJhbGciOiJSUzI1NiJ9", "abc123", "def"):
        assert secret not in masked
    assert "https://ci:***@pypi.example.com/simple/x/" in masked and "Basic ***" in masked
    assert (
        redact("https://pypi.org/simple/ and localhost:5000/team") == "https://pypi.org/simple/ and localhost:5000/team"
    )


def test_credentials_are_split_off_and_put_back_only_on_request():
    clean, found = split_credentials("https://ci:p%40ss:w@index.example.com:8443/simple")
    assert clean == "https://index.example.com:8443/simple"
    assert found == Credentials("ci", "p@ss:w") and "p@ss" not in repr(found)
    assert split_credentials("https://index.example.com/simple") == ("https://index.example.com/simple", None)
    assert with_credentials(clean, found) == "https://ci:p%40ss%3Aw@index.example.com:8443/simple"
    assert split_credentials(with_credentials(clean, found)) == (clean, found)
