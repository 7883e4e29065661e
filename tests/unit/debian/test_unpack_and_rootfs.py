"""A real .deb (made by dpkg-deb) unpacks into layer entries without its scripts or docs,
and lamina makes what those scripts would have made."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from lamina.debian.rootfs import CA_BUNDLE, synthesized
from lamina.debian.unpack import unpack
from lamina.errors import ImageError


@pytest.fixture
def deb(tmp_path):
    root = tmp_path / "pkg"
    files = {
        "usr/bin/tool": b"#!/bin/false\n",
        "usr/share/doc/demo/copyright": b"licence\n",
        "usr/share/doc/demo/changelog.gz": b"old news",
        "usr/share/man/man1/tool.1.gz": b"manual",
        "usr/share/ca-certificates/mozilla/B_Root.crt": b"-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----",
        "usr/share/ca-certificates/mozilla/A_Root.crt": b"-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    os.chmod(root / "usr/bin/tool", 0o755)
    os.link(root / "usr/bin/tool", root / "usr/bin/tool-alias")
    os.symlink("tool", root / "usr/bin/tool-link")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(
        "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: Nobody <n@example.org>\nDescription: demo\n"
    )
    (root / "DEBIAN/postinst").write_text("#!/bin/sh\ntouch /tmp/postinst-ran\n")
    os.chmod(root / "DEBIAN/postinst", 0o755)
    path = tmp_path / "demo_1.0-1_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(path)], check=True, capture_output=True)
    return path


def test_data_entries_keep_copyright_and_drop_docs_and_scripts(deb):
    unpacked = unpack(deb, "demo")
    by_path = {e.path: e for e in unpacked.entries}
    assert "usr/share/doc/demo/copyright" in by_path
    assert not {"usr/share/doc/demo/changelog.gz", "usr/share/man/man1/tool.1.gz"} & set(by_path)
    assert not [p for p in by_path if "postinst" in p or p.startswith("DEBIAN")]
    assert (by_path["usr/bin/tool"].mode, by_path["usr/bin/tool-link"].linkname) == (0o755, "tool")
    assert {by_path["usr/bin/tool"].kind, by_path["usr/bin/tool-alias"].kind} == {"file", "hardlink"}
    assert unpacked.control.startswith("Package: demo\nVersion: 1.0-1\n")


def test_synthesized_files_cover_users_tmp_home_bundle_and_package_database(deb):
    unpacked = unpack(deb, "demo")
    entries = {e.path: e for e in synthesized([unpacked], unpacked.entries, "amd64")}
    assert b"nonroot:x:65532:65532:" in entries["etc/passwd"].data
    assert entries["tmp"].mode == 0o1777
    assert (entries["home/nonroot"].uid, entries["home/nonroot"].mode) == (65532, 0o700)
    assert entries["var/lib/dpkg/status.d/demo"].data.startswith(b"Package: demo\n")
    listed = entries["var/lib/dpkg/status.d/demo.md5sums"].data.decode().splitlines()
    tool = hashlib.md5(b"#!/bin/false\n").hexdigest()
    assert f"{tool}  usr/bin/tool" in listed  # as dpkg's md5sums
    assert "usr/share/doc/demo/copyright" in {line.split("  ")[1] for line in listed}
    assert not [line for line in listed if line.endswith(("tool-link", "tool-alias", "changelog.gz"))]
    bundle = entries[CA_BUNDLE.lstrip("/")].data
    assert bundle.index(b"\nA\n") < bundle.index(b"\nB\n") and bundle.count(b"-----END CERTIFICATE-----\n") == 2


def test_a_file_that_is_not_a_deb_is_a_clear_error(tmp_path):
    bogus = tmp_path / "bogus.deb"
    bogus.write_bytes(b"not an ar archive")
    with pytest.raises(ImageError, match="demo: bogus.deb is not a readable .deb"):
        unpack(bogus, "demo")
