"""A gzip stream compressed in fixed-size blocks on several threads, as pigz does.

The input is cut into ``BLOCK`` bytes; each block is deflated on its own, primed with the
32 KiB before it (so matches still reach back across the cut) and ended with a sync flush,
except the last, which ends the stream. The blocks' deflate streams concatenate into one
ordinary gzip member that any reader decompresses. The bytes depend only on the data, the
level and ``BLOCK``, never on how many threads compressed them, so a layer's digest is the
same with ``--jobs=1`` and ``--jobs=8``; a stream of at most one block is exactly what
``gzip.GzipFile(filename="", mtime=0)`` writes. zlib releases the GIL while it deflates,
so the blocks of one big layer (a base's packages, numpy) use every worker's core.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

BLOCK = 1 << 20
WINDOW = 1 << 15  # deflate's window: the dictionary each block is primed with


def _deflate(block: bytes, dictionary: bytes | None, level: int, last: bool) -> bytes:
    primed = {"zdict": dictionary} if dictionary else {}
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0, **primed)
    return compressor.compress(block) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class BlockGzipWriter(io.RawIOBase):
    """Writes the gzip of what it is given to ``sink``; ``threads`` blocks compress at once."""

    def __init__(self, sink: BinaryIO, level: int = 6, threads: int = 1) -> None:
        self._sink = sink
        self._level = level
        self._pending = bytearray()
        self._previous: bytes | None = None  # the tail of the block before the pending one
        self._crc = 0
        self._size = 0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="lamina-gzip") if threads > 1 else None
        self._in_flight: deque[Future[bytes]] = deque()
        self._max_in_flight = 2 * threads
        extra_flags = b"\002" if level == 9 else b"\004" if level == 1 else b"\000"  # as gzip.GzipFile
        sink.write(b"\037\213\010\000" + struct.pack("<L", 0) + extra_flags + b"\377")

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._pending += data
        while len(self._pending) > BLOCK:  # the last block is whatever remains at close, 1 to BLOCK bytes
            block = bytes(self._pending[:BLOCK])
            del self._pending[:BLOCK]
            self._submit(block, last=False)
        return len(data)

    def _submit(self, block: bytes, last: bool) -> None:
        dictionary, self._previous = self._previous, block[-WINDOW:]
        if self._pool is None:
            self._sink.write(_deflate(block, dictionary, self._level, last))
            return
        self._in_flight.append(self._pool.submit(_deflate, block, dictionary, self._level, last))
        while len(self._in_flight) > self._max_in_flight or (last and self._in_flight):
            self._sink.write(self._in_flight.popleft().result())

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._submit(bytes(self._pending), last=True)
            self._sink.write(struct.pack("<LL", self._crc, self._size & 0xFFFFFFFF))
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
            super().close()
