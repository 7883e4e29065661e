"""Instructions applied without a daemon: the config as Docker's builder sets it, and one
deterministic layer per COPY/ADD, with Docker's rules for destinations, globs and stages."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from lamina.cache import Cache
from lamina.docker.assemble import Assembler, ContextFile, ImageSources, NeedsEngine, needs_engine, target_stage
from lamina.docker.dockerfile import parse
from lamina.errors import BuildFileError
from lamina.sources import scratch


def _build(tmp_path: Path, text: str, files: dict[str, bytes], *, stage: str | None = None, build_args=None):
    context = {}
    for path, data in files.items():
        source = tmp_path / "context" / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        context[path] = ContextFile(source, executable=path.endswith(".sh"))
    dockerfile = parse(text, "Dockerfile")
    sources = ImageSources(context, lambda ref, platform, line: scratch(), Cache(tmp_path / "cache"), build_args or {})
    return Assembler(dockerfile, sources).image(target_stage(dockerfile, stage, ("BUILD", 1)))


def _members(image) -> dict[str, tuple]:
    found = {}
    for layer in image.layers:
        with layer.open() as handle, tarfile.open(fileobj=handle, mode="r:gz") as archive:
            for member in archive:
                data = archive.extractfile(member).read() if member.isfile() else b""
                found[member.name.rstrip("/")] = (member.type, oct(member.mode), member.uid, member.gid, data)
    return found


def test_config_instructions_set_what_docker_sets(tmp_path):
    image = _build(
        tmp_path,
        'FROM scratch\nARG VERSION=1\nENV A=$VERSION B="two words"\nLABEL version="$VERSION"\nEXPOSE 80 53/udp\n'
        'USER 1000:1000\nWORKDIR /srv\nWORKDIR app\nCMD ["serve"]\nENTRYPOINT /bin/run --now\nSTOPSIGNAL SIGINT\n',
        {},
        build_args={"VERSION": "2"},
    )
    config = image.config["config"]
    assert config["Env"] == ["A=2", "B=two words"]
    assert config["Labels"] == {"version": "2"}
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert (config["User"], config["WorkingDir"], config["StopSignal"]) == ("1000:1000", "/srv/app", "SIGINT")
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/bin/run --now"]
    assert "Cmd" in config  # CMD came before ENTRYPOINT in this stage, so it stays
    assert _members(image)["srv/app"][0] == tarfile.DIRTYPE  # WORKDIR makes its directory


def test_copy_places_files_as_docker_does(tmp_path):
    image = _build(
        tmp_path,
        "FROM scratch\nWORKDIR /app\nCOPY run.sh conf/*.ini ./\nCOPY --chmod=600 --chown=7:8 conf /etc/conf\n"
        "COPY data/a.txt /opt/b.txt\n",
        {"run.sh": b"#!/bin/sh\n", "conf/a.ini": b"a", "conf/sub/b.ini": b"b", "data/a.txt": b"x"},
    )
    members = _members(image)
    assert members["app/run.sh"][1:] == (oct(0o755), 0, 0, b"#!/bin/sh\n")
    assert members["app/a.ini"][4] == b"a" and "app/b.ini" not in members  # * stays within one directory
    assert members["etc/conf/sub/b.ini"][1:] == (oct(0o600), 7, 8, b"b")  # a directory's contents, not itself
    assert members["opt/b.txt"][4] == b"x"  # a file to a file name
    assert len(image.layers) == 4  # WORKDIR and each COPY


def test_copy_from_an_earlier_stage_and_target_stage(tmp_path):
    text = "FROM scratch AS build\nCOPY a.txt /out/a.txt\nFROM scratch AS final\nCOPY --from=build /out /copied\n"
    final = _build(tmp_path, text, {"a.txt": b"A"})
    assert _members(final)["copied/a.txt"][4] == b"A"
    build = _build(tmp_path, text, {"a.txt": b"A"}, stage="build")
    assert "copied/a.txt" not in _members(build)


def test_add_unpacks_a_local_archive(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("pkg/hello.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    image = _build(tmp_path, "FROM scratch\nADD bundle.tar.gz /opt/\n", {"bundle.tar.gz": buffer.getvalue()})
    assert _members(image)["opt/pkg/hello.txt"][4] == b"hello"


def test_the_same_inputs_give_the_same_image(tmp_path):
    text = "FROM scratch\nCOPY . /app/\nENV A=1\n"
    first = _build(tmp_path / "1", text, {"x.py": b"print(1)\n", "y/z.txt": b"z"})
    second = _build(tmp_path / "2", text, {"x.py": b"print(1)\n", "y/z.txt": b"z"})
    assert first.digest == second.digest


def test_run_needs_an_engine_and_a_missing_source_names_its_line(tmp_path):
    dockerfile = parse("FROM scratch AS base\nRUN make\nFROM scratch\nCOPY a /a\n", "Dockerfile")
    assert needs_engine(dockerfile, dockerfile.stages[1]) is None  # the last stage does not build on base
    assert needs_engine(dockerfile, dockerfile.stages[0]).line == 2
    with pytest.raises(NeedsEngine):
        _build(tmp_path, "FROM scratch\nRUN make\n", {})
    with pytest.raises(BuildFileError, match=r"Dockerfile:2: missing.txt: no such file in the build context"):
        _build(tmp_path, "FROM scratch\nCOPY missing.txt /\n", {})


def test_a_rebuild_reads_no_image_files_and_an_edit_writes_only_its_layer(tmp_path, monkeypatch):
    text = "FROM scratch\nWORKDIR /app\nCOPY x.py ./\n"
    first = _build(tmp_path, text, {"x.py": b"1"})

    def refuse(*args):
        raise AssertionError("the image's files were read again")

    monkeypatch.setattr("lamina.docker.assemble.LayeredTree.from_image", refuse)
    assert _build(tmp_path, text, {"x.py": b"1"}).digest == first.digest
    edited = _build(tmp_path, text, {"x.py": b"2"})  # where /app is, and what it is, are known from the first build
    assert edited.layers[0].digest == first.layers[0].digest and edited.layers[1].digest != first.layers[1].digest
    assert _members(edited)["app/x.py"][4] == b"2"
