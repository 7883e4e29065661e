"""One registry's side of the OCI distribution API: manifests and blobs, pulled and pushed.

Every byte pulled is checked against its digest before it is stored. Transient failures
(connection resets, 429, 5xx) are retried with backoff; blob uploads go in chunks, and
after a failure continue from the offset the registry reports, or start over when the
registry has forgotten the upload.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin

from lamina.cache.store import BlobStore
from lamina.errors import FetchError, RegistryError
from lamina.oci.model import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from lamina.registry.auth import Authenticator, Credentials

if TYPE_CHECKING:
    import requests

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_CHUNK = 16 << 20


def _pull(repository: str) -> str:
    return f"repository:{repository}:pull"


def _push(repository: str) -> str:
    return f"repository:{repository}:pull,push"


class RegistryClient:
    """A client of one registry (``host[:port]``)."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Callable[[], Credentials | None] = lambda: None,
        ca_bundle: Path | None = None,
        plain_http: bool | None = None,
        attempts: int = 5,
        backoff: float = 0.5,
    ) -> None:
        import requests

        self.registry = registry
        self.http = requests.Session()
        # Passed with every request: requests lets $REQUESTS_CA_BUNDLE override a session's own.
        self.verify: str | bool = str(ca_bundle) if ca_bundle else True
        self.auth = Authenticator(registry, credentials)
        self.attempts, self.backoff = attempts, backoff
        self._plain_http = plain_http
        self._base: str | None = None

    # -- transport -----------------------------------------------------------------------

    @property
    def base(self) -> str:
        """``https://host`` or, for a plain-HTTP registry, ``http://host``."""
        if self._base is None:
            import requests

            plain = self._plain_http
            if plain is None and self.verify is not True:
                plain = False  # a CA bundle is configured: HTTPS only
            if plain is None:  # a loopback registry: HTTPS if it speaks it, else plain HTTP
                try:
                    self.http.get(f"https://{self.registry}/v2/", timeout=10, verify=self.verify)
                    plain = False
                except requests.exceptions.SSLError:
                    plain = True
                except requests.RequestException:
                    plain = False
            self._base = f"{'http' if plain else 'https'}://{self.registry}"
        return self._base

    def _send(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        body: bytes | Callable[[], IO[bytes]] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        stream: bool = False,
        attempts: int | None = None,
    ) -> requests.Response:
        import requests

        url = urljoin(self.base + "/", url)
        attempts = attempts or self.attempts
        problem, answered = "", False
        attempt = 0
        while attempt < attempts:
            sent = dict(headers or {})
            earned = self.auth.header(scope)
            if earned:
                sent["Authorization"] = earned
            data = body() if callable(body) else body
            try:
                response = self.http.request(
                    method, url, headers=sent, data=data, params=params, stream=stream, timeout=(10, 60),
                    verify=self.verify,
                )  # fmt: skip
            except requests.exceptions.SSLError as err:
                raise RegistryError(
                    f"{self.registry}: TLS verification failed ({type(err).__name__}); if it uses its own CA, "
                    f'set [oci.registries."{self.registry}"] ca_bundle in pants.toml'
                ) from None
            except (requests.ConnectionError, requests.Timeout) as err:
                problem = type(err).__name__
                attempt += 1
                self._pause(attempt, None)
                continue
            finally:
                if hasattr(data, "close"):
                    data.close()
            if response.status_code == 401 and not answered:
                answered = True
                self.auth.answer(response, scope, self.http, verify=self.verify)
                continue
            if response.status_code in _RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                attempt += 1
                self._pause(attempt, response.headers.get("Retry-After"))
                continue
            return response
        raise RegistryError(f"{method} {url.split('?')[0]} failed after {attempts} attempts ({problem})")

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        if attempt >= self.attempts:
            return
        delay = float(retry_after) if retry_after and retry_after.isdigit() else self.backoff * 2 ** (attempt - 1)
        time.sleep(min(delay, 30.0))

    def _refused(self, response: requests.Response, what: str) -> RegistryError:
        try:
            details = "; ".join(e.get("message", "") for e in response.json().get("errors", []))
        except ValueError:
            details = ""
        if response.status_code == 401:
            details = "unauthorized: check the credentials for this registry (`docker login`)"
        elif response.status_code == 403:
            details = "denied: the credentials may not push or pull this repository"
        return RegistryError(
            f"{self.registry}: {what}: HTTP {response.status_code}" + (f" ({details})" if details else "")
        )

    # -- manifests ----------------------------------------------------------------------

    def manifest(self, repository: str, identifier: str) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest or index by tag or digest."""
        response = self._send(
            "GET", f"/v2/{repository}/manifests/{identifier}", scope=_pull(repository),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )  # fmt: skip
        if not response.ok:
            raise self._refused(response, f"manifest {repository}:{identifier}")
        data = response.content
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        if identifier.startswith("sha256:") and digest != identifier:
            raise RegistryError(
                f"{self.registry}/{repository}@{identifier}: the registry sent a manifest with digest {digest}; refused"
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0] or _sniff(data)
        return data, media_type, digest

    def manifest_digest(self, repository: str, tag: str, *, attempts: int | None = None) -> str | None:
        """The digest a tag points at now (a HEAD request), or None when the tag is unknown."""
        response = self._send(
            "HEAD", f"/v2/{repository}/manifests/{tag}", scope=_pull(repository),
            headers={"Accept": ", ".join(MANIFEST_TYPES)}, attempts=attempts,
        )  # fmt: skip
        if response.status_code == 404:
            return None
        if not response.ok:
            raise self._refused(response, f"manifest {repository}:{tag}")
        return response.headers.get("Docker-Content-Digest") or self.manifest(repository, tag)[2]

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        """Push a manifest or index under a tag or its digest; return its digest."""
        response = self._send(
            "PUT", f"/v2/{repository}/manifests/{reference}", scope=_push(repository), body=data,
            headers={"Content-Type": media_type},
        )  # fmt: skip
        if response.status_code not in (200, 201):
            raise self._refused(response, f"pushing manifest {repository}:{reference}")
        return f"sha256:{hashlib.sha256(data).hexdigest()}"

    # -- blobs --------------------------------------------------------------------------

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the repository has the blob (a HEAD request)."""
        response = self._send("HEAD", f"/v2/{repository}/blobs/{digest}", scope=_push(repository))
        if response.status_code in (200, 404):
            return response.status_code == 200
        raise self._refused(response, f"blob {repository}@{digest}")

    def fetch_blob(self, repository: str, digest: str, store: BlobStore) -> Path:
        """The blob, downloaded into ``store`` unless there; a blob that does not match its
        digest is refused and nothing is stored."""
        if store.has(digest):
            return store.path(digest)
        response = self._send("GET", f"/v2/{repository}/blobs/{digest}", scope=_pull(repository), stream=True)
        if not response.ok:
            raise self._refused(response, f"blob {repository}@{digest}")
        try:
            with response, store.writer(expected=digest) as blob:
                for chunk in response.iter_content(1 << 20):
                    blob.write(chunk)
        except FetchError:
            raise RegistryError(
                f"{self.registry}/{repository}: blob {digest} does not match its digest; refused, nothing was stored"
            ) from None
        return store.path(digest)

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Link a blob of another repository of this registry into ``repository``, if it lets us."""
        response = self._send(
            "POST", f"/v2/{repository}/blobs/uploads/", params={"mount": digest, "from": source},
            scope=f"{_push(repository)} {_pull(source)}",
        )  # fmt: skip
        if response.status_code == 201:
            return True
        if response.status_code == 202 and response.headers.get("Location"):  # not mounted: drop the upload
            self._send("DELETE", response.headers["Location"], scope=_push(repository), attempts=1)
        return False

    def upload_blob(self, repository: str, digest: str, size: int, opener: Callable[[], IO[bytes]]) -> None:
        """Upload a blob in chunks; after a failure, continue where the registry says it is."""
        location, offset, restarts = self._start_upload(repository), 0, 0
        while offset < size:
            end = min(offset + _CHUNK, size)
            try:
                with opener() as source:
                    source.seek(offset)
                    chunk = source.read(end - offset)
                response = self._send(
                    "PATCH", location, scope=_push(repository), body=chunk, attempts=1,
                    headers={"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{end - 1}"},
                )  # fmt: skip
            except RegistryError:
                response = None
            if response is not None and response.status_code == 202:
                location, offset = response.headers.get("Location", location), end
                continue
            restarts += 1
            if restarts > 3:
                raise RegistryError(f"{self.registry}/{repository}: uploading {digest} kept failing; try again later")
            self._pause(restarts, None)
            location, offset = self._resume(repository, location)
        response = self._send("PUT", location, params={"digest": digest}, scope=_push(repository))
        if response.status_code not in (201, 204):
            raise self._refused(response, f"completing the upload of {digest} to {repository}")

    def _start_upload(self, repository: str) -> str:
        response = self._send("POST", f"/v2/{repository}/blobs/uploads/", scope=_push(repository))
        if response.status_code != 202 or "Location" not in response.headers:
            raise self._refused(response, f"starting an upload to {repository}")
        return response.headers["Location"]

    def _resume(self, repository: str, location: str) -> tuple[str, int]:
        """Where an interrupted upload stands: (location, next offset); a fresh upload if it is gone."""
        try:
            response = self._send("GET", location, scope=_push(repository))
        except RegistryError as err:  # the registry no longer answers at all: stop, a rerun continues
            raise RegistryError(
                f"{self.registry}: the upload to {repository} was cut off and the registry stopped answering ({err}); "
                "run the command again when it is back: blobs already there are not uploaded again"
            ) from None
        if response.status_code == 204:
            received = re.fullmatch(r"0-(-?\d+)", response.headers.get("Range", ""))
            return response.headers.get("Location", location), int(received.group(1)) + 1 if received else 0
        return self._start_upload(repository), 0


def _sniff(data: bytes) -> str:
    import json

    try:
        return json.loads(data).get("mediaType", OCI_MANIFEST)
    except ValueError:
        return OCI_MANIFEST
