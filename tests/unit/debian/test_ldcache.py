"""The ``/etc/ld.so.cache`` lamina writes is read back by glibc's own ``ldconfig -p``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lamina.debian.ldcache import encode, ld_so_cache, libcmp
from lamina.tar import TarEntry


def test_order_is_glibcs_libcmp_descending():
    names = [b"libz.so.1", b"libz.so", b"libzstd.so.1", b"libz3.so.4", b"libfoo.so.10", b"libfoo.so.9", b"liba.so"]
    assert libcmp(b"libfoo.so.10", b"libfoo.so.9") > 0 and libcmp(b"libz3.so", b"libzstd.so") > 0
    assert libcmp(b"libz.so.1", b"libz.so") > 0 and libcmp(b"libx.so.01", b"libx.so.1") == 0
    import functools

    ordered = sorted(names, key=functools.cmp_to_key(lambda a, b: libcmp(b, a)))
    assert ordered == [b"libz3.so.4", b"libzstd.so.1", b"libz.so.1", b"libz.so", b"libfoo.so.10", b"libfoo.so.9",
                       b"liba.so"]  # fmt: skip


def _ldconfig_p(data: bytes, tmp_path: Path) -> list[str]:
    cache = tmp_path / "ld.so.cache"
    cache.write_bytes(data)
    result = subprocess.run(["ldconfig", "-p", "-C", str(cache)], capture_output=True, text=True, check=True)
    return [line.strip() for line in result.stdout.splitlines()[1:]]


def test_ldconfig_reads_the_cache(tmp_path):
    entries = [
        ("libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", 0x303),
        ("libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6", 0x303),
        ("libfoo.so.10", "/opt/lib/libfoo.so.10", 0xA03),
    ]
    assert _ldconfig_p(encode(entries), tmp_path) == [
        "libz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1",
        "libm.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libm.so.6",
        "libfoo.so.10 (libc6,AArch64) => /opt/lib/libfoo.so.10",
    ]


def test_cache_of_a_base_lists_its_libraries_by_soname(tmp_path):
    libz = Path("/lib/x86_64-linux-gnu/libz.so.1").resolve()  # the real file, named by its full version
    entries = [
        TarEntry.file(f"lib/x86_64-linux-gnu/{libz.name}", libz.read_bytes()),
        TarEntry.symlink("lib/x86_64-linux-gnu/libz.so.1", libz.name),
        TarEntry.file("etc/ld.so.conf.d/app.conf", b"/opt/app/lib\n"),
        TarEntry.file("opt/app/lib/libapp.so", libz.read_bytes()),  # its soname says libz.so.1: first wins
        TarEntry.file("usr/lib/x86_64-linux-gnu/notes.txt", b"not a library"),
    ]
    assert _ldconfig_p(ld_so_cache(entries, "amd64"), tmp_path) == [
        "libz.so.1 (libc6,x86-64) => /opt/app/lib/libapp.so"
    ]
    assert ld_so_cache(entries, "mips64el") is None
