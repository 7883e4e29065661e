"""Credentials and auth challenges: anonymous, Basic, and the Bearer token flow.

Credentials come from the Docker config (``~/.docker/config.json`` or ``$DOCKER_CONFIG``):
``auths`` entries, and ``credsStore``/``credHelpers`` through ``docker-credential-*``
programs, read with the docker SDK. They are only ever sent in headers, through the
transport (which refuses to send them in the clear); nothing here logs them or puts
them in an error message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.errors import RegistryError
from lamina.redact import Credentials
from lamina.transport import Transport, netloc

if TYPE_CHECKING:
    import requests

__all__ = ["Authenticator", "Credentials", "docker_credentials", "parse_challenge"]


def docker_credentials(registry: str, config_path: Path | None = None) -> Credentials | None:
    """The Docker config's credentials for ``registry``, if any."""
    import docker.auth
    import docker.errors

    try:
        config = docker.auth.load_config(config_path=str(config_path) if config_path else None)
        entry = config.resolve_authconfig(registry)
    except (docker.errors.DockerException, OSError, ValueError) as err:
        raise RegistryError(
            f"cannot read credentials for {registry} from the Docker config: {type(err).__name__}"
        ) from None
    if not entry:
        return None
    lowered = {key.lower(): value for key, value in entry.items()}
    username, password = lowered.get("username"), lowered.get("password") or lowered.get("identitytoken")
    return Credentials(username or "<token>", password) if password else None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ("bearer", {"realm": ..., "service": ...})."""
    from requests.utils import parse_dict_header

    scheme, _, params = header.strip().partition(" ")
    return scheme.lower(), {k.lower(): v for k, v in parse_dict_header(params).items() if v is not None}


@dataclass
class Authenticator:
    """Answers a registry's 401 challenges, caching a header per scope. Credentials are
    looked up (``lookup``) only when a registry first asks for them."""

    registry: str
    lookup: Callable[[], Credentials | None]
    transport: Transport
    headers: dict[str, str] = field(default_factory=dict)  # scope -> Authorization value
    _credentials: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def credentials(self) -> Credentials | None:
        """The registry's credentials, looked up once."""
        with self._lock:
            if not self._credentials:
                self._credentials.append(self.lookup())
            return self._credentials[0]

    def header(self, scope: str) -> str | None:
        """The Authorization header already earned for ``scope``."""
        return self.headers.get(scope) or self.headers.get("*")

    def answer(self, response: requests.Response, scope: str) -> str:
        """Earn and cache an Authorization header for ``scope`` from the challenge in ``response``."""
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if self.credentials is None:
                raise RegistryError(
                    f"{self.registry} needs a login: add credentials with `docker login {self.registry}`"
                )
            self.headers["*"] = self.credentials.basic()
            return self.headers["*"]
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(
                f"{self.registry} answered 401 with an auth scheme lamina does not speak ({scheme or 'none'})"
            )
        query: dict[str, str | list[str]] = {"service": params["service"]} if "service" in params else {}
        query["scope"] = scope.split(" ")  # one `scope` parameter per scope, as the token spec has it
        headers = {"Authorization": self.credentials.basic()} if self.credentials else {}
        token_response = self.transport.request("GET", params["realm"], params=query, headers=headers, timeout=60)
        if token_response.status_code == 401:
            raise RegistryError(
                f"{self.registry} refused the credentials for {self.registry} (wrong user name or password?)"
            )
        if not token_response.ok:
            raise RegistryError(
                f"{self.registry}'s token service {netloc(params['realm'])} answered HTTP {token_response.status_code}"
            )
        try:
            body = token_response.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token or not isinstance(token, str):
            raise RegistryError(f"{self.registry}'s token service gave no token")
        self.headers[scope] = f"Bearer {token}"
        return self.headers[scope]
