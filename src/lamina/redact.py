"""Keep secrets out of every message: passwords in URLs, tokens, ``Authorization`` values.

Configured URLs are split into a clean URL and its credentials as soon as they are read
(``split_credentials``), so the rest of lamina never holds a secret in a URL. ``redact``
is the last line of defence, applied to every error message and log line the CLI prints.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MASK = "***"

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s:]*):(?P<secret>[^/@\s]*)@")
_AUTH_VALUE = re.compile(r"(?i)\b(?P<kind>basic|bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_PARAM = re.compile(
    r"(?i)(?P<key>[?&][\w.-]*(?:token|password|passwd|secret|signature|sig|credential)=)[^&\s#]+"
)


@dataclass(frozen=True, repr=False)
class Credentials:
    """A user name and a password (or token) for one host."""

    username: str
    password: str

    def basic(self) -> str:
        """The value of a Basic ``Authorization`` header."""
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password={MASK})"


def redact(text: str) -> str:
    """``text`` with URL passwords, ``Basic``/``Bearer`` values and token query parameters masked."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m['kind']} {MASK}", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{MASK}", text)


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """``https://user:pw@host/path`` -> (``https://host/path``, Credentials); URLs without a
    password come back unchanged (a lone user name is kept: it is not a secret)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, Credentials(unquote(parts.username or ""), unquote(parts.password))


def with_credentials(url: str, credentials: Credentials | None) -> str:
    """``url`` with ``credentials`` put back in (for a subprocess such as pip that needs them in the URL)."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    userinfo = f"{quote(credentials.username, safe='')}:{quote(credentials.password, safe='')}@"
    return urlunsplit((parts.scheme, userinfo + parts.netloc, parts.path, parts.query, parts.fragment))
