"""The local Docker engine, through the docker SDK: read images from it, load images into
it, and build in it where the machine has no user namespaces."""

from __future__ import annotations

from lamina.errors import EngineError


def client():
    """A docker SDK client of the engine the environment names; a clear error when none answers."""
    import docker
    import docker.errors
    import requests

    engine = None
    try:
        engine = docker.from_env(timeout=600)
        engine.ping()
        return engine
    except (docker.errors.DockerException, requests.RequestException) as err:
        if engine is not None:
            engine.close()
        raise EngineError(f"no Docker engine answered ({err}); start one, or use a base that needs none") from err
