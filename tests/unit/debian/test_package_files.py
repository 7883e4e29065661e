"""Which package ships a library, read from a tree's package database: lamina's md5sums
(regular files only) and dpkg's .list files, through symlinks and a merged /usr."""

from __future__ import annotations

import os

from lamina.debian.package_files import packages_shipping, resolve_within


def _tree(root):
    lib = root / "usr/lib/x86_64-linux-gnu"
    lib.mkdir(parents=True)
    (lib / "libpq.so.5.15").write_bytes(b"\x7fELF")
    os.symlink("libpq.so.5.15", lib / "libpq.so.5")
    (lib / "libldap-2.5.so.0.1.8").write_bytes(b"\x7fELF")
    os.symlink("libldap-2.5.so.0.1.8", lib / "libldap-2.5.so.0")
    os.symlink("usr/lib", root / "lib")  # merged /usr
    os.symlink("loop", lib / "loop")
    status = root / "var/lib/dpkg/status.d"
    status.mkdir(parents=True)
    (status / "libpq5").write_text("Package: libpq5\n")
    (status / "libpq5.md5sums").write_text("0123  usr/lib/x86_64-linux-gnu/libpq.so.5.15\n")
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (info / "libldap-2.5-0:amd64.list").write_text(
        "/.\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libldap-2.5.so.0\n/lib/x86_64-linux-gnu/libldap-2.5.so.0.1.8\n"
    )
    return root


def test_symlinks_resolve_inside_the_tree_never_outside(tmp_path):
    root = _tree(tmp_path / "root")
    assert resolve_within(root, "/lib/x86_64-linux-gnu/libpq.so.5") == "/usr/lib/x86_64-linux-gnu/libpq.so.5.15"
    os.symlink("/etc/passwd", root / "escape")  # absolute: the tree's /etc/passwd, which it does not have
    assert resolve_within(root, "/escape") is None
    assert resolve_within(root, "/usr/lib/x86_64-linux-gnu/loop") is None
    assert resolve_within(root, "/usr/lib/x86_64-linux-gnu/libmissing.so.1") is None


def test_packages_are_found_from_md5sums_and_dpkg_lists_through_symlinks(tmp_path):
    root = _tree(tmp_path / "root")
    wanted = [
        "/usr/lib/x86_64-linux-gnu/libpq.so.5", "/lib/x86_64-linux-gnu/libldap-2.5.so.0",
        "/usr/lib/x86_64-linux-gnu/libssl.so.3",
    ]  # fmt: skip
    assert packages_shipping(root, wanted) == {
        "/usr/lib/x86_64-linux-gnu/libpq.so.5": "libpq5",
        "/lib/x86_64-linux-gnu/libldap-2.5.so.0": "libldap-2.5-0",
    }
