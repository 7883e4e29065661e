"""Native code's shared libraries are found (or reported missing) from ELF headers alone,
the way the dynamic loader would look for them. The ELF files are built here with gcc."""

from __future__ import annotations

import subprocess

import pytest

from lamina.oci.rootfs import FileTree
from lamina.python.native import BaseLibraries, LayerNatives, base_libraries, missing_libraries
from lamina.tar import TarEntry


def _gcc(directory, name, *args):
    source = directory / "lib.c"
    source.write_text("int answer(void) { return 42; }\n")
    command = ["gcc", "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(directory / name), str(source), *args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return (directory / name).read_bytes()


@pytest.fixture(scope="module")
def elves(tmp_path_factory):
    """A bundled library, an extension needing it (RPATH $ORIGIN/../demo.libs) plus libz and
    libmissing, and one with a RUNPATH."""
    d = tmp_path_factory.mktemp("elf")
    bundled = _gcc(d, "libbundled.so.1", "-Wl,-soname,libbundled.so.1")
    (d / "libmissing.so.7").write_bytes(_gcc(d, "libmissing.so.7", "-Wl,-soname,libmissing.so.7"))
    extension = _gcc(d, "ext.so", "-L", str(d), "-l:libbundled.so.1", "-l:libmissing.so.7", "-lz",
                     "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../demo.libs")  # fmt: skip
    runpath = _gcc(d, "run.so", "-L", str(d), "-l:libbundled.so.1", "-Wl,--enable-new-dtags,-rpath,/opt/libs")
    return bundled, extension, runpath


SITE = "opt/venv/lib/python3.11/site-packages"


def test_needed_libraries_resolve_through_rpath_the_layer_and_the_base(elves):
    bundled, extension, _ = elves
    entries = [
        TarEntry.file(f"{SITE}/demo/ext.so", extension),
        TarEntry.file(f"{SITE}/demo.libs/libbundled.so.1", bundled),
        TarEntry.file(f"{SITE}/demo/__init__.py", b"from .ext import *\n"),
    ]
    natives = LayerNatives.of(entries, {e.path: "demo-1.0-cp311-cp311-linux_x86_64.whl" for e in entries}, "venv")
    assert [f.path.rsplit("/", 1)[1] for f in natives.files] == ["libbundled.so.1", "ext.so"]  # sorted by path
    ext = natives.files[1]
    assert ext.path == f"/{SITE}/demo/ext.so" and ext.owner.startswith("demo-1.0")
    assert set(ext.needed) >= {"libbundled.so.1", "libmissing.so.7", "libz.so.1"}
    assert ext.rpath == (f"/{SITE}/demo.libs",) and ext.runpath == ()
    assert LayerNatives.from_json(natives.to_json()) == natives
    base = BaseLibraries(("/lib/x86_64-linux-gnu", "/usr/lib"), frozenset({"/lib/x86_64-linux-gnu/libz.so.1",
                                                                          "/lib/x86_64-linux-gnu/libc.so.6"}))  # fmt: skip
    missing = missing_libraries(natives.files, natives.libraries, base)
    assert [(m.soname, m.searched) for m in missing] == [
        ("libmissing.so.7", (f"/{SITE}/demo.libs", "/lib/x86_64-linux-gnu", "/usr/lib"))
    ]
    assert missing_libraries(natives.files, natives.libraries, base, ["/opt/extra"]) != []
    with_path = BaseLibraries(base.dirs, base.files | {"/opt/extra/libmissing.so.7"})
    assert missing_libraries(natives.files, natives.libraries, with_path, ["/opt/extra"]) == []


def test_runpath_replaces_rpath_and_comes_after_ld_library_path(elves):
    bundled, _, runpath = elves
    entries = [TarEntry.file("app/run.so", runpath), TarEntry.file("opt/libs/libbundled.so.1", bundled)]
    natives = LayerNatives.of(entries, {}, "first-party code")
    assert natives.files[0].runpath == ("/opt/libs",) and natives.files[0].owner == "first-party code"
    base = BaseLibraries(("/lib/x86_64-linux-gnu",), frozenset({"/lib/x86_64-linux-gnu/libc.so.6"}))
    assert missing_libraries(natives.files, natives.libraries, base) == []


class _Tree(FileTree):
    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def read(self, path):
        return self.files.get(path)

    def readlink(self, path):
        return None

    def listdir(self, path):
        names = {p[len(path) + 1 :].split("/")[0] for p in self.files if p.startswith(path + "/")}
        return sorted(names) or None


def test_base_library_directories_come_from_ld_so_conf_and_the_system():
    tree = _Tree({
        "/etc/ld.so.conf": b"include /etc/ld.so.conf.d/*.conf\n",
        "/etc/ld.so.conf.d/x86_64-linux-gnu.conf": b"# multiarch support\n/usr/local/lib/x86_64-linux-gnu\n",
        "/etc/ld.so.conf.d/zz-app.conf": b"/opt/app/lib\n",
        "/opt/app/lib/libapp.so.2": b"\x7fELF",
        "/lib/x86_64-linux-gnu/libc.so.6": b"\x7fELF",
    })  # fmt: skip
    found = base_libraries(tree, "x86_64", "glibc")
    assert found.dirs[:2] == ("/usr/local/lib/x86_64-linux-gnu", "/opt/app/lib")
    assert "/lib/x86_64-linux-gnu" in found.dirs and "/usr/lib" in found.dirs
    assert found.files == {"/opt/app/lib/libapp.so.2", "/lib/x86_64-linux-gnu/libc.so.6"}
    musl = base_libraries(_Tree({"/lib/libc.musl-x86_64.so.1": b""}), "x86_64", "musl")
    assert musl.dirs == ("/lib", "/usr/local/lib", "/usr/lib")
