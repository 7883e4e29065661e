"""What a wheel says about itself: its ``METADATA`` and the ``Requires-Dist`` in it, read with
bounded memory and checked, so a file that is not a wheel is a clear error."""

from __future__ import annotations

import zipfile
import zlib
from email.parser import BytesParser

from packaging.requirements import InvalidRequirement, Requirement

from lamina.errors import BuildError, ResolveError
from lamina.python.install import Wheel

_MAX_METADATA = 16 << 20


def wheel_metadata(wheel: Wheel) -> bytes:
    """A wheel's ``METADATA``, read with bounded memory; a clear error for a file that is not a wheel."""
    try:
        with zipfile.ZipFile(wheel.path) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise BuildError(
                    f"{wheel.filename} is not a valid wheel: it has {len(names)} .dist-info/METADATA files"
                )
            info = archive.getinfo(names[0])
            if info.file_size > _MAX_METADATA:
                raise BuildError(f"{wheel.filename}: its METADATA is {info.file_size:,} bytes; refused")
            return archive.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error) as err:
        raise BuildError(
            f"{wheel.filename} is not a valid wheel ({type(err).__name__}: {err}); check the lock's hash for it"
        ) from None


def requires_dist(metadata: bytes, what: str) -> list[str]:
    """The ``Requires-Dist`` lines of core metadata, each checked to be a requirement."""
    try:
        text = metadata.decode("utf-8")
    except UnicodeDecodeError:
        raise ResolveError(f"the metadata of {what} is not UTF-8; it cannot be read") from None
    requires = [
        str(r) for r in BytesParser().parsebytes(text.encode(), headersonly=True).get_all("Requires-Dist") or []
    ]
    for line in requires:
        try:
            Requirement(line)
        except InvalidRequirement as err:
            raise ResolveError(f"the metadata of {what} has an invalid Requires-Dist {line!r}: {err}") from None
    return requires
