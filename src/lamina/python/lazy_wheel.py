"""A remote wheel read the way pip's lazy wheel reads one: a seekable file over HTTP range
requests, so ``zipfile`` fetches only the central directory and the members it opens.
Finding which modules a multi-hundred-megabyte wheel provides then costs a few hundred
kilobytes. The bytes read this way only name modules for dependency inference; what is
installed is always the whole wheel, verified against the lock's sha256.
"""

from __future__ import annotations

import io
import re

from lamina.errors import LaminaError
from lamina.transport import Transport

CHUNK = 256 * 1024
_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


class RangesUnsupported(LaminaError):
    """The server does not answer range requests (a full download is needed instead)."""


class RemoteFile(io.RawIOBase):
    """A read-only, seekable view of ``url``, fetched in ``CHUNK``-aligned ranges on demand."""

    def __init__(self, url: str, transport: Transport) -> None:
        super().__init__()
        self.url, self.transport = url, transport
        self.position = 0
        self.fetched = 0  # bytes transferred, for the caller's accounting
        self._chunks: dict[int, bytes] = {}
        self.size = self._size()

    def _get(self, start: int, end: int) -> tuple[bytes, str]:
        response = self.transport.request("GET", self.url, headers={"Range": f"bytes={start}-{end}"})
        try:
            if response.status_code != 206:
                raise RangesUnsupported(f"{self.url.split('?')[0]}: no range requests (HTTP {response.status_code})")
            data = response.content
        finally:
            response.close()
        self.fetched += len(data)
        return data, response.headers.get("Content-Range", "")

    def _size(self) -> int:
        data, content_range = self._get(0, CHUNK - 1)
        total = _TOTAL.fullmatch(content_range.strip())
        if total is None:
            raise RangesUnsupported(f"{self.url.split('?')[0]}: no Content-Range in a range answer")
        self._chunks[0] = data
        return int(total.group(1))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _chunk(self, index: int) -> bytes:
        if index not in self._chunks:
            start = index * CHUNK
            self._chunks[index] = self._get(start, min(start + CHUNK, self.size) - 1)[0]
        return self._chunks[index]

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.size - self.position)
        written = 0
        while written < wanted:
            index, offset = divmod(self.position, CHUNK)
            piece = self._chunk(index)[offset : offset + wanted - written]
            if not piece:
                break
            buffer[written : written + len(piece)] = piece
            written += len(piece)
            self.position += len(piece)
        return written
