"""A ``shell_command`` runs in the sandbox once, and its outputs reach the targets that use
them with their executable bit, from the cache as from the first run."""

from __future__ import annotations

from lamina.backends.shell.rules import shell_command_outputs
from lamina.project import load_project

BUILD = """shell_command(
    name="gen",
    command="printf 'echo hi\\\\n' > run.sh && chmod +x run.sh && mkdir -p out && echo $RANDOM$RANDOM > out/data.txt",
    output_files=["run.sh"],
    output_directories=["out"],
    tools=["printf", "chmod", "mkdir"],
)
"""


def _outputs(repo, cache) -> dict[str, tuple[str, bool]]:
    project = load_project(repo, cache)
    target = project.graph.targets["gen:gen"]
    made = shell_command_outputs(target, project.context)
    return {path: (file.source.read_text(), file.executable) for path, file in made.items()}


def test_outputs_keep_their_executable_bit_and_are_reused(tmp_path):
    repo = tmp_path / "repo"
    (repo / "gen").mkdir(parents=True)
    (repo / "pants.toml").write_text("")
    (repo / "gen/BUILD").write_text(BUILD)
    first = _outputs(repo, tmp_path / "cache")
    assert first["gen/run.sh"] == ("echo hi\n", True)
    assert first["gen/out/data.txt"][1] is False and first["gen/out/data.txt"][0].strip().isdigit()
    assert _outputs(repo, tmp_path / "cache") == first  # a new run takes them from the cache: the same random number
    assert _outputs(repo, tmp_path / "other-cache") != first  # (which a second run of the command would not give)
