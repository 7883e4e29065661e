"""Build a pure-Python sdist into a wheel, in an isolated environment, once per sdist.

The build runs the real ``build`` front end in a fresh isolated environment with a
scrubbed process environment (no host pip config, HOME and TMPDIR inside the cache's
scratch directory, fixed ``SOURCE_DATE_EPOCH``), fetching build requirements only
from lamina's index URLs. It runs on the host, so it needs the host's Python X.Y to
match the target's. The sdist's name, which an index chose, is never used as a path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from packaging.utils import InvalidSdistFilename, parse_sdist_filename, parse_wheel_filename

from lamina.cache import Cache, action_key, is_digest
from lamina.errors import BuildError
from lamina.python.index import PackageIndex
from lamina.python.install import Wheel
from lamina.python.platform import TargetPlatform
from lamina.redact import redact, with_credentials
from lamina.sandbox import SOURCE_DATE_EPOCH
from lamina.transport import netloc

_KEPT = ("PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "LANG")


def _environment(home: Path, index: PackageIndex) -> dict[str, str]:
    env = {key: os.environ[key] for key in _KEPT if key in os.environ}
    cert = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if cert:
        env["PIP_CERT"] = cert
    urls = [with_credentials(url, index.transport.credentials.get(netloc(url))) for url in index.urls]
    (home / "tmp").mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        TMPDIR=str(home / "tmp"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=urls[0],
        PIP_EXTRA_INDEX_URL=" ".join(urls[1:]),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH,
        PYTHONHASHSEED="0",
    )
    return env


def build_wheel(
    sdist: Path, sha256: str, filename: str, platform: TargetPlatform, cache: Cache, index: PackageIndex
) -> Wheel:
    """The wheel built from ``sdist`` (named ``filename``), from the cache when built before."""
    target = ".".join(platform.python_version.split(".")[:2])
    key = action_key("sdist-wheel", 1, {"sdist": sha256, "python": target})
    hit = cache.actions.get(key, {"filename": str, "digest": is_digest})
    if hit is not None and cache.blobs.intact(hit["digest"]) and _is_pure_wheel_name(hit["filename"]):
        return Wheel(hit["filename"], cache.blobs.path(hit["digest"]))
    try:
        parse_sdist_filename(filename)
    except InvalidSdistFilename:
        raise BuildError(f"{filename!r} is not an sdist file name; it cannot be built") from None
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    if host != target:
        raise BuildError(
            f"{filename} has no wheel for the target and must be built, but lamina runs on Python {host} "
            f"and the image has {target}; run lamina with Python {target} or pin a version with a wheel"
        )
    with cache.tempdir() as scratch:
        name, version = parse_sdist_filename(filename)  # rebuilt from parsed parts: never the index's text
        source = scratch / f"{name.replace('-', '_')}-{version}{'.zip' if filename.endswith('.zip') else '.tar.gz'}"
        source.symlink_to(sdist)
        out = scratch / "out"
        result = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
            cwd=scratch,
            env=_environment(scratch, index),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        built = sorted(out.glob("*.whl")) if out.is_dir() else []
        if result.returncode != 0 or len(built) != 1:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise BuildError(f"building a wheel from {filename} failed:\n{redact(tail)}")
        wheel = built[0]
        if not _is_pure_wheel_name(wheel.name):
            raise BuildError(
                f"sdist {filename} contains compiled code ({wheel.name}); lamina cannot build compiled sdists yet: "
                "pin a version that publishes a wheel for the target platform"
            )
        digest = cache.blobs.put_file(wheel)
    cache.actions.put(key, {"filename": wheel.name, "digest": digest}, share=False)  # the wheel stays local
    return Wheel(wheel.name, cache.blobs.path(digest))


def _is_pure_wheel_name(name: str) -> bool:
    try:
        _, _, _, tags = parse_wheel_filename(name)
    except ValueError:
        return False
    return "/" not in name and all(tag.platform == "any" and tag.abi == "none" for tag in tags)
