"""The runtime config of a python_image: how the container starts and what it declares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lamina.oci import Image
from lamina.oci.mutate import with_annotations, with_config, with_top_level

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def image_env(base: Image, venv_dir: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The container's environment: the base's, the venv on ``PATH``, then the target's ``env``."""
    base_env = (base.config.get("config") or {}).get("Env") or []
    env = dict(item.split("=", 1) for item in base_env if "=" in item)
    env["PATH"] = f"{venv_dir}/bin:{env.get('PATH', DEFAULT_PATH)}"
    env["VIRTUAL_ENV"] = venv_dir
    env["PYTHONUNBUFFERED"] = "1"
    env.update({str(k): str(v) for k, v in extra.items()})
    return env


def _port(port: object) -> str:
    text = str(port)
    return text if "/" in text else f"{text}/tcp"


def configure(
    image: Image,
    *,
    env: Mapping[str, str],
    venv_dir: str,
    app_dir: str,
    ports: Sequence[object],
    user: str | None,
    workdir: str | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    created: str,
) -> Image:
    """``image`` set up to run the app: entrypoint, env (see ``image_env``), user, workdir, ports, labels, annotations."""
    base = image.config.get("config") or {}
    all_labels = {**(base.get("Labels") or {}), **annotations, **labels}
    configured = with_config(
        image,
        {
            "Entrypoint": [f"{venv_dir}/bin/python", app_dir],
            "Cmd": None,
            "Env": [f"{key}={value}" for key, value in env.items()],
            "WorkingDir": workdir or app_dir,
            "User": user or None,
            "ExposedPorts": {_port(p): {} for p in ports} or None,
            "Labels": all_labels or None,
        },
    )
    configured = with_top_level(configured, {"created": created})
    return with_annotations(configured, annotations)
