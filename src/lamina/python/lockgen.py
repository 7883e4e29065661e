"""Generate a resolve's lock with pip-tools: every pin with the sha256 of every artifact.

``pip-compile`` runs in a subprocess with a scrubbed environment: no pip configuration
file and no ``PIP_*`` setting other than transport ones (certificates, proxy, timeouts)
reaches it, so a developer's ``find-links`` or extra index cannot leak into a lock that
CI then fails to reproduce. Only the index URLs given are used; they reach pip-tools in
its environment (with their credentials, if any), never on its command line, and never
in the lock.

The resolve is fresh every time (like ``pants generate-lockfiles``): existing pins are
not preferred. The new lock is written next to the old one and renamed over it only
when pip-tools succeeded, so a failed resolve leaves the previous lock untouched.

pip-tools locks for the interpreter it runs on (markers, ``Requires-Python``), so it
runs on the interpreter running lamina, which must be the resolve's Python version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from lamina.atomic import sweep, temp_name
from lamina.errors import ResolveError
from lamina.redact import Credentials, redact, with_credentials
from lamina.transport import netloc

_KEPT_PIP_SETTINGS = frozenset(
    {"PIP_CERT", "PIP_CLIENT_CERT", "PIP_PROXY", "PIP_TIMEOUT", "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES"}
)
_LEAKY_PYTHON_SETTINGS = frozenset({"PYTHONPATH", "PYTHONUSERBASE"})
_INPUT_NAME = "requirements.in"
_ERROR_TAIL_LINES = 30
_TRACEBACK = "Traceback (most recent call last):"


def generate_lockfile(
    requirements: Sequence[str],
    output: Path,
    *,
    resolve_name: str,
    python_version: str | None,
    index_urls: Sequence[str],
    credentials: Mapping[str, Credentials] | None = None,
) -> None:
    """Resolve ``requirements`` with pip-tools into a hash-pinned lock at ``output``.

    ``python_version`` (``"3.11"`` or ``"3.11.2"``) is the resolve's Python; ``index_urls``
    are the package indexes, the first one primary, and ``credentials`` (host -> login)
    what to send them. Raises ``ResolveError`` with
    pip-tools' own explanation when the requirements cannot be resolved.
    """
    _check_python(python_version, resolve_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lamina-lockgen-") as workdir:
        requirements_in = "".join(f"{line}\n" for line in requirements)
        (Path(workdir) / _INPUT_NAME).write_text(requirements_in, encoding="utf-8")
        sweep(output.parent)
        staged = output.parent / temp_name(output.name)
        urls = [with_credentials(url, (credentials or {}).get(netloc(url))) for url in index_urls]
        try:
            completed = subprocess.run(
                _command(staged),
                cwd=workdir,
                env={
                    **_scrubbed_environment(os.environ, resolve_name),
                    "PIP_INDEX_URL": urls[0],
                    "PIP_EXTRA_INDEX_URL": " ".join(urls[1:]),
                },
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0:
                raise ResolveError(
                    f"pip-tools cannot resolve the requirements of resolve {resolve_name!r} "
                    f"(exit {completed.returncode}); {output} is unchanged:\n{redact(_explain(completed.stderr))}"
                )
            staged.chmod(0o644)
            os.replace(staged, output)
        finally:
            staged.unlink(missing_ok=True)


def _check_python(python_version: str | None, resolve_name: str) -> None:
    running = "{}.{}".format(*sys.version_info[:2])
    if python_version is not None and ".".join(python_version.split(".")[:2]) != running:
        raise ResolveError(
            f"resolve {resolve_name!r} is for Python {python_version}, but lamina runs on Python "
            f"{running} and pip-tools locks for the interpreter it runs on; run "
            f"`lamina generate-lockfiles --resolve={resolve_name}` with a Python {python_version} interpreter"
        )


def _command(staged: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-find-links",
        "--no-emit-trusted-host",
        "--output-file",
        str(staged),
        _INPUT_NAME,
    ]


def _scrubbed_environment(environ: Mapping[str, str], resolve_name: str) -> dict[str, str]:
    """The caller's environment without pip configuration that changes what is resolved."""
    kept = {
        key: value
        for key, value in environ.items()
        if (not key.startswith("PIP_") or key in _KEPT_PIP_SETTINGS) and key not in _LEAKY_PYTHON_SETTINGS
    }
    return {
        **kept,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "CUSTOM_COMPILE_COMMAND": f"lamina generate-lockfiles --resolve={resolve_name}",
    }


def _explain(stderr: str) -> str:
    """pip-tools' own messages, and of a crash only its final exception (no traceback frames)."""
    lines = stderr.splitlines()
    if _TRACEBACK in lines:
        own = lines[: lines.index(_TRACEBACK)]
        final = next((line for line in reversed(lines) if line and not line.startswith(" ")), "")
        lines = [*own, re.sub(r"^[\w.]+\.(\w+: )", r"\1", final)]
    kept = [line.strip() for line in lines if line.strip()]
    return "\n".join(kept[-_ERROR_TAIL_LINES:]) or "(pip-tools printed nothing)"
