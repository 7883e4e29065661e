"""Apply a Dockerfile's instructions to images without a daemon: each ``COPY``/``ADD`` (and a
``WORKDIR`` that makes its directory) becomes one deterministic layer, every other
instruction but ``RUN`` changes the image config as Docker's builder does.

A stage the target stage needs that runs a command raises ``NeedsEngine`` naming its
line: lamina never emulates ``RUN``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lamina.cache import LAYER_BLOB, Cache, action_key, fits
from lamina.docker.dockerfile import EXPANDED, Dockerfile, ExpansionError, Instruction, Stage, arg_declarations, expand
from lamina.errors import BuildFileError
from lamina.oci import Image
from lamina.oci.mutate import append_layer, with_config, with_top_level
from lamina.oci.rootfs import LayeredTree
from lamina.tar import LayerBlob, TarEntry, write_layer
from lamina.tar.entries import DIRECTORY, FILE, SYMLINK

LAYER_FORMAT = 1
DEFAULT_SHELL = ("/bin/sh", "-c")
# Config-only instructions, applied by lamina; RUN (and ADD from a URL) need an engine.
_CONFIG = {"ENV", "LABEL", "EXPOSE", "USER", "WORKDIR", "ENTRYPOINT", "CMD", "SHELL", "STOPSIGNAL", "VOLUME",
           "HEALTHCHECK", "ONBUILD", "MAINTAINER", "ARG"}  # fmt: skip


class NeedsEngine(Exception):
    """The target stage needs a stage that runs a command (``RUN``), which lamina does not emulate."""

    def __init__(self, path: str, instruction: Instruction) -> None:
        super().__init__(f"{path}:{instruction.line}: {instruction.original}")
        self.path = path
        self.instruction = instruction


@dataclass(frozen=True)
class ContextFile:
    """A file of the build context: where its bytes are, and whether it is executable."""

    source: Path
    executable: bool

    @classmethod
    def on_disk(cls, path: Path) -> ContextFile:
        """A file of the checkout, executable as its mode says."""
        return cls(path, bool(path.stat().st_mode & 0o111))


@dataclass(frozen=True)
class ImageSources:
    """Where a Dockerfile's names lead: the build context, and images outside the Dockerfile."""

    context: dict[str, ContextFile]  # context-relative path -> its file
    base: Callable[[str, str | None, int], Image]  # FROM reference, --platform, line -> the image
    cache: Cache
    build_args: dict[str, str] = field(default_factory=dict)


def needs_engine(dockerfile: Dockerfile, target: Stage) -> Instruction | None:
    """The first ``RUN`` (or remote ``ADD``) among the stages ``target`` is built from, if any."""
    for stage in needed_stages(dockerfile, target):
        for instruction in stage.instructions:
            if instruction.keyword == "RUN" or (
                instruction.keyword == "ADD" and any("://" in a or a.startswith("git@") for a in instruction.args[:-1])
            ):
                return instruction
    return None


def needed_stages(dockerfile: Dockerfile, target: Stage) -> list[Stage]:
    """``target`` and the earlier stages it builds on or copies from."""
    needed, pending = {}, [target]
    while pending:
        stage = pending.pop()
        if stage.index in needed:
            continue
        needed[stage.index] = stage
        names = [stage.base] + [i.flag("from") for i in stage.instructions if i.flag("from")]
        pending += [s for s in dockerfile.stages[: stage.index] if any(_names_stage(n, s) for n in names)]
    return [needed[i] for i in sorted(needed)]


def _names_stage(name: str, stage: Stage) -> bool:
    return name.lower() == stage.name or name == str(stage.index)


def target_stage(dockerfile: Dockerfile, name: str | None, where: tuple[str, int]) -> Stage:
    """The stage ``target_stage`` names, else the last."""
    if not name:
        return dockerfile.stages[-1]
    stage = dockerfile.stage(name)
    if stage is None:
        named = ", ".join(s.name for s in dockerfile.stages if s.name) or "none"
        raise BuildFileError(
            f"target_stage={name!r} is not a stage of {dockerfile.path} (named stages: {named})",
            path=where[0], line=where[1],
        )  # fmt: skip
    return stage


class Assembler:
    """Builds the stages of one Dockerfile, each once."""

    def __init__(self, dockerfile: Dockerfile, sources: ImageSources) -> None:
        self.dockerfile = dockerfile
        self.sources = sources
        self.built: dict[int, Image] = {}
        self.global_args = self._global_args()

    def _fail(self, line: int, message: str) -> BuildFileError:
        path = self.dockerfile.path
        return BuildFileError(message, path=path, line=line)

    def _expand(self, word: str, variables: dict[str, str], line: int) -> str:
        try:
            return expand(word, variables, self.dockerfile.escape)
        except ExpansionError as err:
            raise self._fail(line, str(err)) from None

    def _global_args(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, default in self.dockerfile.global_args:
            if name in self.sources.build_args:
                values[name] = self.sources.build_args[name]
            elif default is not None:
                values[name] = self._expand(default, values, 1)
        return values

    def base_reference(self, stage: Stage) -> str:
        """What ``FROM`` names after expansion with the global ``ARG``s."""
        return self._expand(stage.base, self.global_args, stage.line)

    def image(self, stage: Stage) -> Image:
        """The image of ``stage`` (its earlier stages built first)."""
        if stage.index not in self.built:
            self.built[stage.index] = _StageRun(self, stage).run()
        return self.built[stage.index]

    def stage_named(self, name: str, before: int) -> Stage | None:
        return next((s for s in self.dockerfile.stages[:before] if _names_stage(name, s)), None)


class _StageRun:
    """The instructions of one stage applied in order."""

    def __init__(self, assembler: Assembler, stage: Stage) -> None:
        self.a = assembler
        self.stage = stage
        self.args: dict[str, str] = {}
        self.cmd_set = False
        self._tree: LayeredTree | None = None

    @property
    def config(self) -> dict:
        return dict(self.image.config.get("config") or {})

    def env(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.config.get("Env") or [] if "=" in item)

    def variables(self) -> dict[str, str]:
        return {**self.args, **self.env()}

    def run(self) -> Image:
        stage, a = self.stage, self.a
        reference = a.base_reference(stage)
        earlier = a.stage_named(reference, stage.index)
        if earlier is not None:
            self.image = a.image(earlier)
        else:
            platform = a._expand(stage.platform, a.global_args, stage.line) if stage.platform else None
            self.image = a.sources.base(reference, platform, stage.line)
        self.image = with_top_level(self.image, {"history": list(self.image.config.get("history") or [])})
        for instruction in stage.instructions:
            self.apply(instruction)
        return self.image

    def word(self, text: str, line: int) -> str:
        return self.a._expand(text, self.variables(), line)

    def note(self, instruction: Instruction) -> None:
        history = [*self.image.config.get("history", []), {"created_by": instruction.original, "empty_layer": True}]
        self.image = with_top_level(self.image, {"history": history})

    def set(self, instruction: Instruction, changes: dict) -> None:
        self.image = with_config(self.image, changes)
        self.note(instruction)

    def apply(self, instruction: Instruction) -> None:
        keyword, line = instruction.keyword, instruction.line
        if keyword not in _CONFIG | {"COPY", "ADD"}:  # RUN, and anything Docker does not know
            raise NeedsEngine(self.a.dockerfile.path, instruction)
        args = instruction.args
        if keyword in EXPANDED and keyword not in ("ENV", "LABEL", "ARG"):
            args = tuple(self.word(arg, line) for arg in args)
        if keyword == "ARG":
            for name, default in arg_declarations(instruction):
                if name in self.a.sources.build_args:
                    self.args[name] = self.a.sources.build_args[name]
                elif default is not None:
                    self.args[name] = self.word(default, line)
                elif name in self.a.global_args:
                    self.args[name] = self.a.global_args[name]
            return
        if keyword == "ENV":
            env = self.env()
            for name, value in zip(args[::2], args[1::2]):
                env[name] = self.word(value, line)
            self.set(instruction, {"Env": [f"{k}={v}" for k, v in env.items()]})
        elif keyword == "LABEL":
            labels = dict(self.config.get("Labels") or {})
            for name, value in zip(args[::2], args[1::2]):
                labels[self.word(name, line)] = self.word(value, line)
            self.set(instruction, {"Labels": labels})
        elif keyword == "EXPOSE":
            ports = dict(self.config.get("ExposedPorts") or {})
            ports.update({(p if "/" in p else f"{p}/tcp"): {} for p in args})
            self.set(instruction, {"ExposedPorts": ports})
        elif keyword == "USER":
            self.set(instruction, {"User": args[0]})
        elif keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(self.config.get("WorkingDir") or "/", args[0]))
            self.image = with_config(self.image, {"WorkingDir": workdir})
            self.make_workdir(instruction, workdir)
        elif keyword in ("ENTRYPOINT", "CMD"):
            command = list(args) if instruction.json else [*self.shell(), args[0]]
            changes = {"Entrypoint" if keyword == "ENTRYPOINT" else "Cmd": command}
            if keyword == "ENTRYPOINT" and not self.cmd_set:
                changes["Cmd"] = None  # Docker: a new entrypoint drops the base's CMD
            self.cmd_set |= keyword == "CMD"
            self.set(instruction, changes)
        elif keyword == "SHELL":
            if not instruction.json:
                raise self.a._fail(line, 'SHELL takes a JSON array, e.g. SHELL ["/bin/bash", "-c"]')
            self.set(instruction, {"Shell": list(args)})
        elif keyword == "STOPSIGNAL":
            self.set(instruction, {"StopSignal": args[0]})
        elif keyword == "VOLUME":
            volumes = dict(self.config.get("Volumes") or {})
            volumes.update({v: {} for v in args})
            self.set(instruction, {"Volumes": volumes})
        elif keyword == "ONBUILD":
            self.set(instruction, {"OnBuild": [*(self.config.get("OnBuild") or []), " ".join(args)]})
        elif keyword == "MAINTAINER":
            self.image = with_top_level(self.image, {"author": args[0]})
            self.note(instruction)
        elif keyword == "HEALTHCHECK":
            self.healthcheck(instruction)
        else:  # COPY, ADD
            self.copy(instruction, args)

    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    def healthcheck(self, instruction: Instruction) -> None:
        args = instruction.args
        if args and args[0].upper() == "NONE":
            self.set(instruction, {"Healthcheck": {"Test": ["NONE"]}})
            return
        if not args or args[0].upper() != "CMD":
            raise self.a._fail(instruction.line, "HEALTHCHECK takes NONE or CMD ...")
        rest = list(args[1:])
        test = ["CMD", *rest] if instruction.json else ["CMD-SHELL", " ".join(rest)]
        check: dict = {"Test": test}
        for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod")):
            value = instruction.flag(flag)
            if value:
                check[key] = _duration_ns(value, self.a, instruction.line)
        if instruction.flag("retries"):
            check["Retries"] = int(instruction.flag("retries"))
        self.set(instruction, {"Healthcheck": check})

    # -- layers --------------------------------------------------------------------------

    def tree(self) -> LayeredTree:
        """The stage's filesystem so far, read once and kept up to date as layers are added."""
        if self._tree is None:
            self._tree = LayeredTree.from_image(self.image)
        return self._tree

    def make_workdir(self, instruction: Instruction, workdir: str) -> None:
        """Make the directory in a layer of its own, unless the image has it."""

        def entries() -> list[TarEntry] | None:
            tree = self.tree()
            resolved = tree.resolve(workdir) or workdir
            member = tree.member(resolved)
            if resolved == "/" or (member is not None and member.isdir()):
                return None
            return self.parents(tree, resolved, None) + [TarEntry.dir(resolved)]

        self.cached_layer(instruction, {"workdir": workdir}, entries)

    def cached_layer(self, instruction: Instruction, inputs: dict, entries) -> None:
        """The layer ``entries()`` makes on this image (None: no layer), cached by ``inputs`` and the
        layers below, so a rebuild neither reads the image's files again nor writes the layer."""
        cache = self.a.sources.cache
        below = [layer.diff_id for layer in self.image.layers]
        key = action_key("dockerfile-step", LAYER_FORMAT, {**inputs, "below": below, "keyword": instruction.keyword})
        hit = cache.actions.get(key, {"layer": lambda v: v is None or fits(v, LAYER_BLOB)})
        if hit is not None and (hit["layer"] is None or cache.blobs.has(hit["layer"]["digest"])):
            if hit["layer"] is None:
                self.note(instruction)
            else:
                self.append(
                    LayerBlob(hit["layer"]["digest"], hit["layer"]["diff_id"], hit["layer"]["size"]), instruction
                )
            return
        made = entries()
        if made is None:
            self.note(instruction)
            cache.actions.put(key, {"layer": None}, share=False)
            return
        blob = self.add_layer(made, instruction)
        cache.actions.put(key, {"layer": blob.to_json()}, share=False)

    def parents(self, tree: LayeredTree, path: str, owner: tuple[int, int] | None) -> list[TarEntry]:
        """Entries for the directories above ``path``: as the image has them, else new (0755)."""
        return _parents(_directories(tree, posixpath.dirname(path)), path, owner)

    def destination(self, absolute: str) -> tuple[str, dict[str, list[int]]]:
        """Where ``absolute`` leads in the image (its links followed) and which of that path and
        its parents are directories there, with their mode and owner; cached by the layers
        below, so an edit of what is copied does not read the image's files again."""
        cache = self.a.sources.cache
        below = [layer.diff_id for layer in self.image.layers]
        key = action_key("dockerfile-destination", LAYER_FORMAT, {"below": below, "path": absolute})
        hit = cache.actions.get(key, {"resolved": str, "directories": dict})
        if hit is None:
            tree = self.tree()
            resolved = tree.resolve(absolute) or absolute
            hit = {"resolved": resolved, "directories": _directories(tree, resolved)}
            cache.actions.put(key, hit, share=False)
        return hit["resolved"], hit["directories"]

    def add_layer(self, entries: list[TarEntry], instruction: Instruction) -> LayerBlob:
        """Write ``entries`` as the next layer (or reuse the same layer written before)."""
        cache = self.a.sources.cache
        key = action_key("dockerfile-layer", LAYER_FORMAT, [_entry_key(e) for e in entries])
        hit = cache.actions.get(key, LAYER_BLOB)
        if hit is None or not cache.blobs.has(hit["digest"]):
            hit = write_layer(entries, cache.blobs).to_json()
            cache.actions.put(key, hit, share=False)
        blob = LayerBlob(hit["digest"], hit["diff_id"], hit["size"])
        self.append(blob, instruction)
        return blob

    def append(self, blob: LayerBlob, instruction: Instruction) -> None:
        layer = blob.layer(self.a.sources.cache.blobs)
        self.image = append_layer(self.image, layer, created_by=instruction.original)
        if self._tree is not None:
            self._tree.add(layer)

    def copy(self, instruction: Instruction, args: tuple[str, ...]) -> None:
        line = instruction.line
        if len(args) < 2:
            raise self.a._fail(line, f"{instruction.keyword} needs a source and a destination")
        sources, destination = args[:-1], args[-1]
        owner = self.owner(instruction.flag("chown"), line) if instruction.flag("chown") else None
        chmod = instruction.flag("chmod")
        mode = int(chmod, 8) if chmod else None
        workdir = self.config.get("WorkingDir") or "/"
        absolute = posixpath.normpath(posixpath.join(workdir, destination))
        from_name = instruction.flag("from")
        found = self.from_stage(from_name, sources, line) if from_name else self.from_context(sources, line)
        multiple = len(found) > 1 or any(_is_glob(s) for s, _, _ in found)

        def entries() -> list[TarEntry]:
            resolved, directories = self.destination(absolute)
            has_dir = any(kind == "dir" for _, kind, _ in found)
            into_dir = destination.endswith("/") or multiple or resolved in directories
            placed: list[TarEntry] = []
            for _source, kind, items in found:
                for relative, entry in items:
                    if kind == "dir" or into_dir:
                        path = posixpath.join(resolved, relative)
                    else:
                        path = resolved
                    placed.append(_placed(entry, path, owner, mode))
            if instruction.keyword == "ADD" and not from_name:
                placed = self.unpacked(placed, resolved if into_dir else posixpath.dirname(resolved))
            top = resolved if into_dir or has_dir else posixpath.dirname(resolved)
            return _unique(_parents(directories, posixpath.join(top, "-"), owner) + placed)

        if from_name:  # what it copies is another stage's: no key short of building that stage
            self.add_layer(entries(), instruction)
            return
        sources_key = [[s, kind, [[r, _entry_key(e)] for r, e in items]] for s, kind, items in found]
        inputs = {"args": list(args), "flags": list(instruction.flags), "workdir": workdir, "sources": sources_key}
        self.cached_layer(instruction, inputs, entries)

    def owner(self, text: str, line: int) -> tuple[int, int]:
        user, _, group = self.word(text, line).partition(":")
        tree = self.tree  # read only for names, not numbers
        uid = _id(user, tree, "/etc/passwd")
        gid = _id(group, tree, "/etc/group") if group else None
        if uid is None or (group and gid is None):
            raise self.a._fail(line, f"--chown={text}: no such user or group in the image's /etc/passwd, /etc/group")
        if gid is None:
            gid = _primary_group(user, tree) if not user.isdigit() else uid
        return uid, gid

    def from_context(self, sources: tuple[str, ...], line: int) -> list[tuple[str, str, list]]:
        """What each source names in the build context: files, or directories' contents,
        matched segment by segment as Go's ``filepath.Match`` does (``*`` stays in one segment)."""
        context = self.a.sources.context
        found = []
        for source in sources:
            if "://" in source:
                raise NeedsEngine(self.a.dockerfile.path, Instruction("ADD", (), (source,), False, line, source))
            pattern = posixpath.normpath("/" + source).lstrip("/")
            parts = pattern.split("/") if pattern else []
            files, dirs = [], {}
            for path, on_disk in sorted(context.items()):
                segments = path.split("/")
                if len(segments) < len(parts) or not all(map(fnmatch.fnmatchcase, segments, parts)):
                    continue
                if len(segments) == len(parts):
                    files.append((segments[-1], _context_entry(on_disk)))
                else:
                    relative = "/".join(segments[len(parts) :])
                    dirs.setdefault("/".join(segments[: len(parts)]), []).append((relative, _context_entry(on_disk)))
            if not files and not dirs:
                raise self.a._fail(
                    line, f"{source}: no such file in the build context (it holds the files and packages of the "
                    "docker_image's dependencies at their paths; add the target that provides it to its dependencies)",
                )  # fmt: skip
            found += [(source, "file", [item]) for item in files]
            found += [(source, "dir", items) for _, items in sorted(dirs.items())]
        return found

    def from_stage(self, name: str, sources: tuple[str, ...], line: int) -> list[tuple[str, str, list]]:
        """What each source names in an earlier stage (or another image): a file, or a directory's contents."""
        stage = self.a.stage_named(name, self.stage.index)
        image = self.a.image(stage) if stage is not None else self.a.sources.base(name, None, line)
        tree = LayeredTree.from_image(image)
        found = []
        for source in sources:
            path = tree.resolve(posixpath.normpath("/" + source))
            member = tree.member(path) if path else None
            if member is None:
                raise self.a._fail(line, f"COPY --from={name} {source}: no such file in {name}")
            if member.isdir():
                found.append((source, "dir", list(_walk(tree, path))))
            else:
                found.append((source, "file", [(posixpath.basename(path), _image_entry(tree, path, member))]))
        return found

    def unpacked(self, entries: list[TarEntry], destination: str) -> list[TarEntry]:
        """``ADD``: a local tar archive (plain or compressed) is unpacked into the destination directory."""
        out = []
        for entry in entries:
            if entry.kind == FILE and entry.source is not None and tarfile.is_tarfile(entry.source):
                with tarfile.open(entry.source) as archive:
                    out += [_archive_entry(archive, member, destination) for member in archive if _kept(member)]
            else:
                out.append(entry)
        return out


def _walk(tree: LayeredTree, top: str):
    """``(path relative to top, entry)`` for everything below ``top`` (links not followed)."""
    pending = [top]
    while pending:
        directory = pending.pop()
        for name in tree.listdir(directory) or ():
            path = posixpath.join(directory, name)
            member = tree.member(path)
            if member is None:
                continue
            relative = posixpath.relpath(path, top)
            if member.isdir():
                yield relative, TarEntry(relative, DIRECTORY, member.mode, uid=member.uid, gid=member.gid)
                pending.append(path)
            else:
                yield relative, _image_entry(tree, path, member)


def _image_entry(tree: LayeredTree, path: str, member: tarfile.TarInfo) -> TarEntry:
    if member.issym():
        return TarEntry(path, SYMLINK, 0o777, linkname=member.linkname, uid=member.uid, gid=member.gid)
    return TarEntry(path, FILE, member.mode, data=tree.read(path) or b"", uid=member.uid, gid=member.gid)


def _kept(member: tarfile.TarInfo) -> bool:
    return member.isfile() or member.isdir() or member.issym()


def _archive_entry(archive: tarfile.TarFile, member: tarfile.TarInfo, destination: str) -> TarEntry:
    path = posixpath.join(destination, member.name)
    if member.isdir():
        return TarEntry(path, DIRECTORY, member.mode, uid=member.uid, gid=member.gid)
    if member.issym():
        return TarEntry(path, SYMLINK, 0o777, linkname=member.linkname, uid=member.uid, gid=member.gid)
    data = archive.extractfile(member).read()
    return TarEntry(path, FILE, member.mode, data=data, uid=member.uid, gid=member.gid)


def _directories(tree: LayeredTree, path: str) -> dict[str, list[int]]:
    """``{directory: [mode, uid, gid]}`` for ``path`` and each parent that is a directory in ``tree``."""
    found, current = {}, path
    while current not in ("/", ""):
        member = tree.member(current)
        if member is not None and member.isdir():
            found[current] = [member.mode, member.uid, member.gid]
        current = posixpath.dirname(current)
    return found


def _parents(directories: dict[str, list[int]], path: str, owner: tuple[int, int] | None) -> list[TarEntry]:
    """Entries for the directories above ``path``: as ``directories`` has them, else new (0755, ``owner``'s)."""
    entries, directory = [], posixpath.dirname(path)
    while directory not in ("/", ""):
        mode, uid, gid = directories.get(directory) or [0o755, *(owner or (0, 0))]
        entries.append(TarEntry(directory, DIRECTORY, mode, uid=uid, gid=gid))
        directory = posixpath.dirname(directory)
    return entries


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _context_entry(file: ContextFile) -> TarEntry:
    return TarEntry.from_path("x", file.source, executable=file.executable)


def _placed(entry: TarEntry, path: str, owner, mode) -> TarEntry:
    uid, gid = owner or (entry.uid, entry.gid)
    new_mode = mode if mode is not None and entry.kind != SYMLINK else entry.mode
    return TarEntry(
        path, entry.kind, new_mode, data=entry.data, source=entry.source, linkname=entry.linkname, uid=uid, gid=gid
    )


def _unique(entries: list[TarEntry]) -> list[TarEntry]:
    by_path: dict[str, TarEntry] = {}
    for entry in entries:
        by_path[entry.path] = entry
    return list(by_path.values())


def _entry_key(entry: TarEntry) -> list:
    content = ""
    if entry.kind == FILE:
        content = hashlib.sha256(entry.read()).hexdigest()
    return [entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.linkname, content]


def _id(name: str, tree: Callable[[], LayeredTree], database: str) -> int | None:
    if name.isdigit():
        return int(name)
    for line in (tree().read(database) or b"").decode(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def _primary_group(user: str, tree: Callable[[], LayeredTree]) -> int:
    for line in (tree().read("/etc/passwd") or b"").decode(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) > 3 and fields[0] == user and fields[3].isdigit():
            return int(fields[3])
    return 0


def _duration_ns(text: str, assembler: Assembler, line: int) -> int:
    units = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return int(float(text[: -len(unit)]) * units[unit])
    raise assembler._fail(line, f"{text!r} is not a duration (e.g. 30s, 1m)")
