"""Work the run's images will need, started before the first of them asks: the wheels of
the locked distributions that publish only an sdist (built on the host). Without it, the
first image that needs such a wheel, often late in address order, builds it while the
other workers run out of images to build.

It starts once an image of the run misses third-party layers in the cache (an app edit
builds no wheel, so it prefetches nothing) and works on what the images compute
themselves (their base, its platform, their resolve's closure) through the run's
``once``: an image that needs a wheel being built waits for it, and nothing is built
twice. It stops when the run's targets are done; a failure here is left for the image
that needs the wheel to report.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from packaging.requirements import Requirement

from lamina.backends.bases import base_images
from lamina.backends.context import BuildContext
from lamina.backends.python.platform_probe import probed
from lamina.backends.python.target_types import builder_spec
from lamina.backends.python.third_party import LAYERS_MISSED, ThirdParty, ThirdPartyRequest, venv_layout
from lamina.errors import LaminaError
from lamina.graph.target import Target
from lamina.python.lockfile import CONSTRAINTS, load_lockfile

log = logging.getLogger(__name__)


def prefetch_sdist_wheels(targets: Sequence[Target], context: BuildContext, stop: threading.Event) -> None:
    """Build the wheels of the sdists the ``python_image``s among ``targets`` need on their
    bases (those without a builder: a builder's sdists are built with their build lock),
    once an image misses its third-party layers, until ``stop`` is set."""
    missed = context.once(LAYERS_MISSED, threading.Event)
    while not missed.wait(0.05):
        if stop.is_set():
            return
    groups: dict[tuple[str, str], list[Target]] = {}
    for target in targets:
        if target.alias == "python_image" and not builder_spec(target, context.config):
            resolve = context.graph.resolve_of(target)
            groups.setdefault((resolve, target.get("base") or context.config.default_base or ""), []).append(target)
    for (resolve, _), images in groups.items():
        if stop.is_set():
            return
        try:
            _prefetch(resolve, images, context, stop)
        except LaminaError as err:  # the image that needs it reports it, in address order
            log.debug("prefetching the sdists of resolve %s stopped: %s", resolve, err)


def _prefetch(resolve: str, images: list[Target], context: BuildContext, stop: threading.Event) -> None:
    closure = context.graph.closure(images)
    requirements = sorted({r for t in closure if t.alias == "python_requirement" for r in t.get("requirements", ())})
    if not requirements:
        return
    lock = load_lockfile(context.config.lock_path(resolve), resolve_name=resolve)
    if lock.format == CONSTRAINTS:
        return
    third_party = ThirdParty.of(context)
    for base in base_images(images[0], context):
        if stop.is_set():
            return
        platform, _ = probed(context, base)
        roots = tuple(Requirement(r) for r in requirements)
        request = ThirdPartyRequest(lock, resolve, roots, platform, venv_layout(context, platform))
        sdists = [d for d in third_party.closure(request) if not third_party.select(d, platform).is_wheel]
        for dist in sdists:
            if stop.is_set():
                return
            third_party.wheels([dist], platform)
