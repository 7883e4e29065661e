"""Dependencies Pants infers for its own target types that lamina reads: a ``docker_image``
depends on the packages its Dockerfile copies into the image (``COPY
src.python.app/main.pex /bin`` names the ``pex_binary`` ``src/python/app:main`` by its
output path), as Pants' Docker backend infers them."""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from lamina.graph.target import Target

_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?P<arguments>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_PACKAGES = ("pex_binary", "python_distribution", "archive", "python_aws_lambda_function", "pyoxidizer_binary")


def _output_paths(graph) -> dict[str, Target]:
    """Where each package target writes its output, as Pants names it by default."""
    key = "pants-output-paths"
    if key not in graph.memo:
        outputs = {}
        for target in graph.targets.values():
            if target.alias in _PACKAGES:
                default = f"{target.address.spec_path.replace('/', '.')}/{target.address.name}"
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


def infer_docker_image(target: Target, graph) -> list[Target]:
    """The package targets whose outputs the image's Dockerfile copies."""
    outputs = _output_paths(graph)
    return [outputs[path] for path in copied_paths(_dockerfile(target, graph)) if path in outputs]


INFERRERS = {"docker_image": infer_docker_image}
