"""One HTTP transport for everything lamina downloads or pushes: package indexes, wheels,
Debian archives and registries share its policy.

* **TLS is never downgraded.** A TLS failure of any kind is an error naming the host and
  how to trust it; nothing is retried over plain HTTP, and a redirect from HTTPS to plain
  HTTP is refused, except to a loopback host (127.0.0.0/8, ::1, ``localhost``).
* **Secrets never travel in the clear.** A request carrying an ``Authorization`` header
  (configured credentials, a registry token, a ``.netrc`` entry) to plain HTTP on a
  host that is not loopback is refused before anything is sent.
* **Credentials from configured URLs** (``https://user:pw@host/...``) are sent only as a
  header to that host; URLs in lamina never carry them.
* **Transient failures are retried** with exponential backoff, honouring ``Retry-After``:
  connection errors, timeouts, 429 and 5xx.

requests is imported on first use: a no-op build makes no request and does not pay for it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lamina.errors import TlsError, TransportError
from lamina.redact import Credentials, redact

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_PAUSE = 30.0


def netloc(url: str) -> str:
    """``host[:port]`` of a URL, without user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host + (f":{parts.port}" if parts.port else "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``name[:port]``, ``[v6][:port]``) is this machine by address, or ``localhost``."""
    name = host
    if name.startswith("["):
        name = name[1 : name.index("]")]
    elif name.count(":") == 1:
        name = name.split(":")[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostOptions:
    """How to reach one host: a CA bundle to trust, and whether plain HTTP is allowed."""

    ca_bundle: Path | None = None
    plain_http: bool = False


def _refuse_secrets_in_clear(url: str, headers: Mapping[str, str]) -> None:
    parts = urlsplit(url)
    if parts.scheme == "http" and "Authorization" in headers and not is_loopback(netloc(url)):
        raise TransportError(
            f"refusing to send credentials to {netloc(url)} over plain HTTP; serve it over HTTPS "
            "(credentials go in the clear only to a loopback host)"
        )


def _is_downgrade(old: str, new: str) -> bool:
    return urlsplit(old).scheme == "https" and urlsplit(new).scheme == "http" and not is_loopback(netloc(new))


def _guarded_session(pool_size: int) -> requests.Session:
    """A requests session that refuses downgrading redirects and secrets over plain HTTP."""
    import requests
    from requests.adapters import HTTPAdapter

    class GuardedSession(requests.Session):
        def get_redirect_target(self, resp):
            target = super().get_redirect_target(resp)
            if target and _is_downgrade(resp.url, urljoin(resp.url, target)):
                raise TransportError(
                    f"{netloc(resp.url)} redirected {redact(resp.url)} to plain HTTP "
                    f"({redact(urljoin(resp.url, target))}); refused"
                )
            return target

        def send(self, request, **kwargs):
            _refuse_secrets_in_clear(request.url, request.headers)
            return super().send(request, **kwargs)

    session = GuardedSession()
    adapter = HTTPAdapter(pool_maxsize=max(pool_size, 10))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


Body = bytes | Callable[[], IO[bytes]] | None


class Transport:
    """Sends requests under lamina's policy; one per run, shared by every client and thread."""

    def __init__(
        self,
        *,
        hosts: Mapping[str, HostOptions] | None = None,
        credentials: Mapping[str, Credentials] | None = None,
        attempts: int = 5,
        backoff: float = 0.5,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hosts = dict(hosts or {})
        self.credentials = dict(credentials or {})
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep
        self._pool_size = pool_size
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        """The guarded requests session, made on first use."""
        with self._lock:
            if self._session is None:
                self._session = _guarded_session(self._pool_size)
            return self._session

    def options(self, host: str) -> HostOptions:
        """The configured options of ``host`` (``name[:port]``)."""
        return self.hosts.get(host, HostOptions())

    def plain_http_allowed(self, host: str) -> bool:
        """Whether lamina may choose plain HTTP for ``host``: loopback, or configured so."""
        return is_loopback(host) or self.options(host).plain_http

    def verify(self, host: str) -> str | bool:
        """What to verify ``host``'s certificate against (passed with every request, since
        requests lets ``$REQUESTS_CA_BUNDLE`` override a session's own setting)."""
        bundle = self.options(host).ca_bundle
        return str(bundle) if bundle else True

    def pause(self, attempt: int, retry_after: str | None = None) -> None:
        """Wait before attempt ``attempt + 1``: ``Retry-After`` seconds if given, else backoff."""
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after.strip())
        else:
            delay = self.backoff * 2 ** (attempt - 1)
        self.sleep(min(delay, _MAX_PAUSE))

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | tuple[float, float] = (10, 60),
        attempts: int | None = None,
        tls_hint: str = "",
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Send a request, retrying transient failures; the last response of a retried status
        (429, 5xx) is returned for the caller to judge. Raises ``TransportError`` on a TLS
        failure, a refused downgrade, or when the host never answered."""
        import requests

        host = netloc(url)
        sent = dict(headers or {})
        credentials = self.credentials.get(host)
        if credentials is not None and "Authorization" not in sent:
            sent["Authorization"] = credentials.basic()
        attempts = attempts or self.attempts
        problem = ""
        for attempt in range(1, attempts + 1):
            data = body() if callable(body) else body
            try:
                response = self.session.request(
                    method, url, headers=sent, data=data, params=params, stream=stream, timeout=timeout,
                    verify=self.verify(host), allow_redirects=allow_redirects,
                )  # fmt: skip
            except requests.exceptions.SSLError as err:
                raise TlsError(
                    f"{host}: TLS verification failed ({_reason(err)}); lamina does not fall back to plain HTTP"
                    + (f"; {tls_hint}" if tls_hint else "")
                ) from None
            except (requests.ConnectionError, requests.Timeout) as err:
                problem = type(err).__name__
                if attempt < attempts:
                    self.pause(attempt)
                continue
            finally:
                if hasattr(data, "close"):
                    data.close()
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                retry_after = response.headers.get("Retry-After")
                response.close()
                self.pause(attempt, retry_after)
                continue
            return response
        raise TransportError(
            f"{method} {redact(url.split('?')[0])}: {host} did not answer after {attempts} attempts ({problem})"
        )


def _reason(err: Exception) -> str:
    """What the TLS layer said (``self-signed certificate``, ``Hostname mismatch, ...``),
    found under requests' and urllib3's wrappers."""
    import ssl

    found: BaseException = err
    for _ in range(8):
        if isinstance(found, ssl.SSLError):
            break
        inner = getattr(found, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in found.args if isinstance(arg, BaseException)), None)
        if inner is None:
            break
        found = inner
    if isinstance(found, ssl.SSLCertVerificationError):
        return found.verify_message or "certificate verify failed"
    if isinstance(found, ssl.SSLError):
        return found.reason or str(found)
    return redact(str(found)) or type(err).__name__
