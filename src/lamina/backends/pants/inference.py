"""Dependencies Pants infers for its own target types that lamina reads: a ``docker_image``
depends on the packages its Dockerfile copies into the image (``COPY
src.python.app/main.pex /bin`` names the ``pex_binary`` ``src/python/app:main`` by its
output path) and on the image a build argument's default names in ``FROM`` (``ARG
BASE=:base`` then ``FROM $BASE``), as Pants' Docker backend infers them."""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from lamina.errors import LaminaError
from lamina.graph.target import Target

_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?P<arguments>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_PACKAGES = (
    "pex_binary",
    "python_distribution",
    "archive",
    "python_aws_lambda_function",
    "pyoxidizer_binary",
    "go_binary",
)
_ARG = re.compile(r"^\s*ARG\s+(?P<name>\w+)=(?P<value>\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\$\{?(?P<name>\w+)\}?", re.IGNORECASE | re.MULTILINE)


def _output_paths(graph) -> dict[str, Target]:
    """Where each package target writes its output, as Pants names it by default."""
    key = "pants-output-paths"
    if key not in graph.memo:
        outputs = {}
        for target in graph.targets.values():
            if target.alias in _PACKAGES:
                stem = target.address.generated.replace(".", "_") if target.address.generated else target.address.name
                default = f"{target.address.spec_path.replace('/', '.')}/{stem}"
                path = target.get("output_path") or (default + ".pex" if target.alias == "pex_binary" else default)
                outputs[posixpath.normpath(path)] = target
        graph.memo[key] = outputs
    return graph.memo[key]


def _dockerfile(target: Target, graph) -> str:
    instructions = target.get("instructions")
    if instructions:
        return "\n".join(instructions)
    path = graph.build_root / target.address.spec_path / (target.get("source") or "Dockerfile")
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def copied_paths(dockerfile: str) -> list[str]:
    """The build-context paths ``COPY``/``ADD`` take (not those copied from another stage)."""
    found = []
    for match in _COPY.finditer(dockerfile):
        arguments = match["arguments"]
        try:
            words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        except ValueError:
            continue
        if not all(isinstance(w, str) for w in words):
            continue
        if any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        found.extend(posixpath.normpath(s) for s in sources)
    return found


def base_image_arguments(dockerfile: str) -> list[str]:
    """Default values of the build arguments a ``FROM`` takes its image from."""
    defaults = {m["name"]: m["value"] for m in _ARG.finditer(dockerfile)}
    return [defaults[m["name"]] for m in _FROM.finditer(dockerfile) if m["name"] in defaults]


def infer_docker_image(target: Target, graph) -> list[Target]:
    """The package targets whose outputs the image's Dockerfile copies, and the images its
    ``FROM`` build arguments name by address."""
    dockerfile = _dockerfile(target, graph)
    outputs = _output_paths(graph)
    found = [outputs[path] for path in copied_paths(dockerfile) if path in outputs]
    for value in base_image_arguments(dockerfile):
        if ":" not in value or "/" in value.split(":")[0] and "." in value.split("/")[0]:
            continue  # an image reference (registry/repo:tag), not an address
        try:
            base = graph.address_of(value, relative_to=target.address.spec_path)
        except LaminaError:
            continue
        if base.alias == "docker_image":
            found.append(base)
    return found


INFERRERS = {"docker_image": infer_docker_image}
