"""One registry's side of the OCI distribution API: manifests and blobs, pulled and pushed.

Requests go through lamina's ``Transport`` (TLS policy, retries, ``Retry-After``); this
module adds the registry's own protocol on top: choosing the scheme, answering 401
challenges with the scope an operation needs (reads ask for ``pull`` only, so pull-only
credentials can read), and uploading blobs in chunks that continue, after a failure,
from the offset the registry reports. Every byte pulled is checked against its digest
before it is stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin

from lamina.cache.store import BlobStore
from lamina.errors import FetchError, RegistryError, TlsError, TransportError
from lamina.oci.model import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from lamina.redact import Credentials
from lamina.registry.auth import Authenticator
from lamina.transport import Body, Transport

if TYPE_CHECKING:
    import requests

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
CHUNK_SIZE = 16 << 20
_MAX_RESTARTS = 3


def pull_scope(repository: str) -> str:
    """The token scope for reading ``repository``."""
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    """The token scope for writing ``repository``."""
    return f"repository:{repository}:pull,push"


class RegistryClient:
    """A client of one registry (``host[:port]``)."""

    def __init__(
        self,
        registry: str,
        transport: Transport,
        *,
        credentials: Callable[[], Credentials | None] = lambda: None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.registry = registry
        self.transport = transport
        self.auth = Authenticator(registry, credentials, transport)
        self.chunk_size = chunk_size
        self._base: str | None = None

    @property
    def tls_hint(self) -> str:
        """What to do about a TLS failure of this registry."""
        return f'if it uses its own CA, set [oci.registries."{self.registry}"] ca_bundle in pants.toml'

    # -- transport -----------------------------------------------------------------------

    @property
    def base(self) -> str:
        """``https://host``; ``http://host`` only where plain HTTP is allowed: configured with
        ``plain_http = true``, or a loopback registry that does not speak TLS."""
        if self._base is None:
            options = self.transport.options(self.registry)
            plain = options.plain_http
            if not plain and options.ca_bundle is None and self.transport.plain_http_allowed(self.registry):
                try:
                    self.transport.request("GET", f"https://{self.registry}/v2/", timeout=10, attempts=1)
                except TlsError:
                    plain = True
                except TransportError:
                    plain = False
            self._base = f"{'http' if plain else 'https'}://{self.registry}"
        return self._base

    def _send(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        body: Body = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        stream: bool = False,
        attempts: int | None = None,
    ) -> requests.Response:
        url = urljoin(self.base + "/", url)

        def send(authorization: str | None) -> requests.Response:
            sent = {**(headers or {}), **({"Authorization": authorization} if authorization else {})}
            return self.transport.request(
                method, url, headers=sent, body=body, params=params, stream=stream, attempts=attempts,
                tls_hint=self.tls_hint,
            )  # fmt: skip

        earned = self.auth.header(scope)
        response = send(earned)
        if response.status_code == 401:
            answer = self.auth.answer(response, scope)
            if answer != earned:  # a new header to try; the same one again would only be refused again
                response.close()
                response = send(answer)
        return response

    def _refused(self, response: requests.Response, what: str) -> RegistryError:
        try:
            errors = response.json().get("errors", [])
            details = "; ".join(str(e.get("message", "")) for e in errors)
            codes = tuple(str(e.get("code", "")) for e in errors)
        except (ValueError, AttributeError, TypeError):
            details, codes = "", ()
        if response.status_code == 401:
            details = "unauthorized: check the credentials for this registry (`docker login`)"
        elif response.status_code == 403:
            details = "denied: the credentials may not push or pull this repository"
        return RegistryError(
            f"{self.registry}: {what}: HTTP {response.status_code}" + (f" ({details})" if details else ""), codes
        )

    # -- manifests ----------------------------------------------------------------------

    def manifest(self, repository: str, identifier: str) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest or index by tag or digest."""
        response = self._send(
            "GET", f"/v2/{repository}/manifests/{identifier}", scope=pull_scope(repository),
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
            "HEAD", f"/v2/{repository}/manifests/{tag}", scope=pull_scope(repository),
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
            "PUT", f"/v2/{repository}/manifests/{reference}", scope=push_scope(repository), body=data,
            headers={"Content-Type": media_type},
        )  # fmt: skip
        if response.status_code not in (200, 201):
            raise self._refused(response, f"pushing manifest {repository}:{reference}")
        return f"sha256:{hashlib.sha256(data).hexdigest()}"

    # -- blobs --------------------------------------------------------------------------

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the repository has the blob (a HEAD request, with pull scope)."""
        response = self._send("HEAD", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository))
        if response.status_code in (200, 404):
            return response.status_code == 200
        raise self._refused(response, f"blob {repository}@{digest}")

    def fetch_blob(self, repository: str, digest: str, store: BlobStore) -> Path:
        """The blob, downloaded into ``store`` unless there; a blob that does not match its
        digest is refused and nothing is stored."""
        if store.has(digest):
            return store.path(digest)
        import requests

        response = self._send("GET", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository), stream=True)
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
        except requests.RequestException as err:
            raise RegistryError(
                f"{self.registry}/{repository}: the download of blob {digest} was cut off ({type(err).__name__}); "
                "run the command again"
            ) from None
        return store.path(digest)

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Link a blob of another repository of this registry into ``repository``, if it lets us."""
        response = self._send(
            "POST", f"/v2/{repository}/blobs/uploads/", params={"mount": digest, "from": source},
            scope=f"{push_scope(repository)} {pull_scope(source)}",
        )  # fmt: skip
        if response.status_code == 201:
            return True
        if response.status_code == 202 and response.headers.get("Location"):  # not mounted: drop the upload
            self._send("DELETE", response.headers["Location"], scope=push_scope(repository), attempts=1)
        return False

    def upload_blob(self, repository: str, digest: str, size: int, opener: Callable[[], IO[bytes]]) -> None:
        """Upload a blob in chunks; after a failure, continue where the registry says it is."""
        location, offset, restarts = self._start_upload(repository), 0, 0
        while offset < size:
            end = min(offset + self.chunk_size, size)
            with opener() as source:
                source.seek(offset)
                chunk = source.read(end - offset)
            try:
                response = self._send(
                    "PATCH", location, scope=push_scope(repository), body=chunk, attempts=1,
                    headers={"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{end - 1}"},
                )  # fmt: skip
            except TlsError:
                raise
            except (RegistryError, TransportError):
                response = None
            if response is not None and response.status_code == 202:
                location, offset = response.headers.get("Location", location), end
                continue
            restarts += 1
            if restarts > _MAX_RESTARTS:
                raise RegistryError(f"{self.registry}/{repository}: uploading {digest} kept failing; try again later")
            self.transport.pause(restarts)
            location, offset = self._resume(repository, location)
        response = self._send("PUT", location, params={"digest": digest}, scope=push_scope(repository))
        if response.status_code not in (201, 204):
            raise self._refused(response, f"completing the upload of {digest} to {repository}")

    def _start_upload(self, repository: str) -> str:
        response = self._send("POST", f"/v2/{repository}/blobs/uploads/", scope=push_scope(repository))
        if response.status_code != 202 or "Location" not in response.headers:
            raise self._refused(response, f"starting an upload to {repository}")
        return response.headers["Location"]

    def _resume(self, repository: str, location: str) -> tuple[str, int]:
        """Where an interrupted upload stands: (location, next offset); a fresh upload if it is gone."""
        try:
            response = self._send("GET", location, scope=push_scope(repository))
        except TlsError:
            raise
        except (RegistryError, TransportError) as err:  # the registry no longer answers at all: a rerun continues
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
        value = json.loads(data)
        return value.get("mediaType", OCI_MANIFEST) if isinstance(value, dict) else OCI_MANIFEST
    except ValueError:
        return OCI_MANIFEST
