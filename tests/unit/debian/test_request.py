"""The archives a debian_base reads: the suite, its updates and security, or a snapshot."""

from __future__ import annotations

from lamina.debian.request import Source, sources_for

MIRRORS = {"mirror": "https://deb.debian.org/debian/", "security_mirror": "https://deb.debian.org/debian-security"}


def test_a_suite_with_updates_reads_what_a_debian_install_reads():
    assert sources_for("bookworm", **MIRRORS) == [
        Source("https://deb.debian.org/debian", "bookworm"),
        Source("https://deb.debian.org/debian", "bookworm-updates"),
        Source("https://deb.debian.org/debian-security", "bookworm-security"),
    ]
    assert sources_for("bookworm", updates=False, components=["main", "contrib"], **MIRRORS) == [
        Source("https://deb.debian.org/debian", "bookworm", ("main", "contrib"))
    ]


def test_a_snapshot_reads_both_archives_as_they_were():
    found = sources_for("bookworm", snapshot="20241101T000000Z", **MIRRORS)
    assert [str(s) for s in found] == [
        "https://snapshot.debian.org/archive/debian/20241101T000000Z bookworm main",
        "https://snapshot.debian.org/archive/debian/20241101T000000Z bookworm-updates main",
        "https://snapshot.debian.org/archive/debian-security/20241101T000000Z bookworm-security main",
    ]
