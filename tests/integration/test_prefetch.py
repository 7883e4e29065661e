"""With workers to spare, the wheel of a locked sdist is built ahead of the first image
that needs it: only for the images of the run, and once however many images ask."""

from __future__ import annotations

import pytest
from oci_reading import lamina
from small_repo import lock_text, make_repo

pytestmark = pytest.mark.integration

TABLE = """from tabulate import tabulate


def main() -> int:
    print(tabulate([["table"]]))
    return 0
"""


def test_an_sdists_wheel_is_built_ahead_once_and_only_for_the_runs_images(index, python_base, tmp_path):
    repo = make_repo(tmp_path / "repo", index_url=index.url, base=python_base, lock=lock_text(index.files))
    for name in ("table", "chart"):  # two images that need only tabulate's wheel
        (repo / "src" / name).mkdir()
        (repo / "src" / name / "__init__.py").write_text("")
        (repo / "src" / name / "main.py").write_text(TABLE)
        (repo / "src" / name / "BUILD").write_text(
            f"python_sources()\npython_image(name='image', entry_point='{name}.main:main')\n"
        )
    (repo / "src" / "app" / "BUILD").write_text(
        "python_sources()\npython_image(name='cli', entry_point='app.main:main', image_tags=['v1'])\n"
        "python_image(name='cli-again', entry_point='app.main:main')\n"
    )  # two images that need docopt, which publishes only an sdist
    cache = tmp_path / "cache"

    tables = lamina("--jobs=2", "-v", "package", "src/table:image", "src/chart:image", cwd=repo, cache=cache)
    assert "building a wheel from docopt" not in tables.stderr  # no image of that run needs it (-v would say)

    everything = lamina("--jobs=2", "-v", "package", "::", cwd=repo, cache=tmp_path / "cold-cache")
    assert everything.stderr.count("building a wheel from docopt-0.6.2.tar.gz") == 1, everything.stderr
    for address in ("src/app:cli", "src/app:cli-again", "src/table:image", "src/chart:image"):
        assert f"{address}  sha256:" in everything.stdout
