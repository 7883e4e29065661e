"""``dependencies ::`` over a lock holding torch (a wheel of hundreds of megabytes, with its
CUDA libraries) finds torch's modules through HTTP range requests: the whole command
downloads under 5 MB, measured by a counting proxy on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from counting_proxy import CountingProxy
from oci_reading import lamina

TORCH_LOCK = Path(__file__).resolve().parents[1] / "data" / "torch-lock"  # `uv lock` of torch==2.5.1, linux x86_64


@pytest.mark.integration
def test_dependencies_over_a_torch_lock_download_little(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(TORCH_LOCK, root)
    (root / "pants.toml").write_text(
        '[python]\nenable_resolves = true\n[python.resolves]\npython-default = "uv.lock"\n'
    )
    (root / "BUILD").write_text(
        'python_requirements(name="reqs", source="pyproject.toml")\npython_sources(name="app")\n'
    )
    (root / "app.py").write_text("import torch.nn\n")
    with CountingProxy() as proxy:
        result = lamina(
            "-v", "dependencies", "//app.py:app", cwd=root, cache=tmp_path / "cache",
            env={"HTTPS_PROXY": proxy.url, "https_proxy": proxy.url, "NO_PROXY": "", "no_proxy": ""},
        )  # fmt: skip
    assert result.stdout.split() == ["//:reqs#torch"]
    assert "module names read with" in result.stderr
    assert 0 < proxy.received < 5_000_000, proxy.received
