"""The ``debian_base`` target type: a distroless-style base image from pinned Debian packages."""

from lamina.graph.target import Field, TargetType

DEBIAN_BASE = TargetType(
    "debian_base",
    "A base image made from Debian packages pinned in a lock: no package manager, no shell "
    "(unless asked for), a nonroot user (65532), CA certificates. Usable as python_image(base=':name').",
    (
        Field(
            "packages",
            "Debian packages to install, e.g. ['python3.11-minimal', 'ca-certificates'].",
            (),
            required=True,
        ),
        Field("suite", "The Debian suite (release codename).", "bookworm"),
        Field("architectures", "Debian architectures; more than one makes a multi-architecture image.", ("amd64",)),
        Field("components", "Archive components to read.", ("main",)),
        Field("updates", "Also use the suite's -updates and -security archives, as a Debian install does.", True),
        Field("mirror", "The Debian mirror; defaults to [debian] mirror in pants.toml."),
        Field(
            "snapshot",
            "Read the archives as they were at this time (snapshot.debian.org), e.g. '20241101T000000Z'.",
        ),
        Field(
            "exclude",
            "Packages left out even when something depends on them, in addition to the package-manager-only "
            "defaults (dpkg, debconf, init-system-helpers, ...).",
            (),
        ),
        Field("lockfile", "The lock, relative to this BUILD file; defaults to '<name>.lock.json'."),
    ),
)
TARGET_TYPES = [DEBIAN_BASE]
