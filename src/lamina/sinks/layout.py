"""Every image of a run into one OCI image layout: blobs shared, one ``index.json`` entry
per image target, annotated with its address and tags.

A blob is written once for every image that has it: copied from the cache (never linked:
an output shares no inode with the cache) and checked against its digest on the way. A
blob is rewritten only when the cache's ledger says it is not the file lamina wrote
(damaged, truncated, replaced), so a no-op ``package`` only ``stat``s. ``index.json``
is written last and only when it changes, through an atomic rename, so a reader never
sees an entry naming a blob not yet written; entries of images this run did not build
stay, and blobs no entry reaches any more are removed. Concurrent writers take turns.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Self

from lamina.atomic import locked, replacing, sweep, write_bytes
from lamina.cache import Ledger, OutputRecord, file_digest, is_digest
from lamina.oci import canonical_json
from lamina.oci.index import images_of
from lamina.sinks.named import NamedImage
from lamina.sinks.verified import copy_layer

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"  # what containerd's and nerdctl's importers name the image
ADDRESS = "dev.lamina.target"  # which target an entry is the image of
TAGS = "dev.lamina.tags"  # every REPO:TAG of the image, space-separated
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _put(target: Path, digest: str, record: OutputRecord, *, data: bytes | None = None, layer=None) -> bool:
    """Make ``target`` the blob ``digest``; return whether the record changed."""
    if record.intact(target, digest):
        return False
    if not (target.is_file() and file_digest(target) == digest):  # else written by another run or cache
        with replacing(target) as handle:
            if data is not None:
                handle.write(data)
            else:
                copy_layer(layer, handle)
    record.remember(target, digest)
    return True


class Layout:
    """The OCI layout at ``directory``, open for one run (a context manager: the index is
    committed and the lock released on exit, after a failure too, with what was fully written)."""

    def __init__(self, directory: Path, ledger: Ledger, *, shown_as: str | None = None) -> None:
        self.directory = directory
        self.blobs = directory / "blobs" / "sha256"
        self.shown_as = shown_as or str(directory)
        self._ledger = ledger
        self._entries: dict[str, dict] = {}  # address -> descriptor, put this run
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        self._stack.enter_context(locked(self.directory))
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._record = self._ledger.record(self.directory)
        self._changed = False
        self._checked: set[str] = set()  # blobs written or found intact in this run
        return self

    def put(self, built: NamedImage) -> list[str]:
        """Write the image's blobs; its entry joins the index when the layout is closed."""
        artifact = built.image
        wanted: dict[str, dict] = {}
        for image in images_of(artifact):
            for layer in image.layers:
                wanted.setdefault(layer.digest, {"layer": layer})
            wanted.setdefault(image.config_descriptor.digest, {"data": image.config_bytes})
            wanted.setdefault(image.digest, {"data": image.manifest_bytes})
        wanted.setdefault(artifact.digest, {"data": artifact.manifest_bytes})
        for digest, source in wanted.items():
            if digest not in self._checked:  # a base layer 500 images share is checked once per run
                self._changed |= _put(self.blobs / digest.partition(":")[2], digest, self._record, **source)
                self._checked.add(digest)
        descriptor = artifact.manifest_descriptor.to_json()
        descriptor.pop("platform", None)
        name = built.repo_tags[0] if built.repo_tags else built.address
        descriptor["annotations"] = {
            REF_NAME: name, IMAGE_NAME: name, ADDRESS: built.address, TAGS: " ".join(built.repo_tags)
        }  # fmt: skip
        self._entries[built.address] = descriptor
        return [f"{self.shown_as}:{name}"]

    def __exit__(self, *exc) -> None:
        with self._stack:
            self._commit()

    def _commit(self) -> None:
        index_path = self.directory / "index.json"
        if not self._entries and not index_path.exists():  # nothing written (a failed first run): no layout
            return
        kept = [m for m in _manifests(index_path) if (m.get("annotations") or {}).get(ADDRESS) not in self._entries]
        manifests = sorted([*kept, *self._entries.values()], key=lambda m: m["annotations"].get(ADDRESS, ""))
        index = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
        write_bytes(self.directory / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        if write_bytes(index_path, index) or self._changed:
            self._collect(manifests)
        sweep(self.blobs)
        sweep(self.directory)
        if self._changed:
            self._record.save()

    def _collect(self, manifests: list[dict]) -> None:
        """Remove the blobs no entry of the index reaches (the images of earlier runs, replaced).
        Only manifests and indexes are read, never a layer."""
        reached: set[str] = set()
        documents = [m["digest"] for m in manifests]
        while documents:
            digest = documents.pop()
            if digest in reached or not is_digest(digest):
                continue
            reached.add(digest)
            try:
                document = json.loads((self.blobs / digest.partition(":")[2]).read_bytes())
            except (OSError, ValueError):
                continue
            documents += [m.get("digest") for m in document.get("manifests", []) if isinstance(m, dict)]
            for leaf in [document.get("config") or {}, *document.get("layers", [])]:
                if isinstance(leaf, dict) and is_digest(leaf.get("digest")):
                    reached.add(leaf["digest"])
        for blob in self.blobs.iterdir():
            if not blob.name.startswith(".") and f"sha256:{blob.name}" not in reached:
                blob.unlink()
        self._record.forget_all_but({self.blobs / d.partition(":")[2] for d in reached})
        self._changed = True


def _manifests(index_path: Path) -> list[dict]:
    """The entries of an existing ``index.json`` (none when it is missing or unreadable)."""
    try:
        manifests = json.loads(index_path.read_bytes())["manifests"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [m for m in manifests if isinstance(m, dict) and isinstance(m.get("annotations"), dict)]
