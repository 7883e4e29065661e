"""A gzip stream compressed in blocks is one ordinary gzip member, its bytes the same
however many threads compressed it, and a stream of one block is exactly what Python's
gzip module writes."""

from __future__ import annotations

import gzip
import io
import random
import zlib

import pytest

from lamina.cache import Cache
from lamina.tar import TarEntry, write_layer
from lamina.tar.gzip_blocks import BLOCK, BlockGzipWriter


def _compressible(size: int, seed: int = 7) -> bytes:
    """Text-like bytes: compressible, with matches across block boundaries."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghij_") for _ in range(rng.randint(2, 9))) for _ in range(400)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def _blocks(data: bytes, threads: int, chunk: int = 10_007) -> bytes:
    sink = io.BytesIO()
    writer = BlockGzipWriter(sink, 6, threads)
    for start in range(0, len(data), chunk):  # as tarfile writes: many small pieces
        writer.write(data[start : start + chunk])
    writer.close()
    return sink.getvalue()


@pytest.mark.parametrize("size", [0, 1, 5000, BLOCK, BLOCK + 1, 3 * BLOCK + 12_345])
def test_block_gzip_is_one_member_whose_bytes_do_not_depend_on_threads(size):
    data = _compressible(size)
    single = _blocks(data, threads=1)
    assert _blocks(data, threads=4) == single == _blocks(data, threads=2, chunk=BLOCK // 3)
    assert gzip.decompress(single) == data
    member = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert member.decompress(single) == data and member.eof and member.unused_data == b""  # one member, whole
    plain = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=plain, mtime=0, compresslevel=6) as reference:
        reference.write(data)
    if size <= BLOCK:
        assert single == plain.getvalue()
    else:  # matches reach back across each cut: hardly bigger than one stream
        assert len(single) < 1.01 * len(plain.getvalue())


def test_a_big_layer_has_the_same_digest_with_one_or_several_compressing_threads(tmp_path):
    entries = [TarEntry.file(f"/data/part{i}.txt", _compressible(BLOCK, seed=i)) for i in range(3)]
    one = write_layer(entries, Cache(tmp_path / "one").blobs, threads=1)
    several = write_layer(entries, Cache(tmp_path / "several").blobs, threads=3)
    assert one == several
