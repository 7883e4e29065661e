"""debian_base: a distroless-style base from pinned Debian packages that runs as nonroot,
carries the right binaries per architecture, and refuses what it cannot verify."""

from __future__ import annotations

import hashlib
import json
import struct
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from oci_reading import BASE, blob, config, copy_examples, image_outputs, lamina, manifest, top_descriptor, venv_layers

pytestmark = pytest.mark.integration

WEB = ("src/python/services/web", "web")
CLI = ("src/python/services/greet_cli", "greet-cli")
EM_X86_64, EM_AARCH64 = 62, 183
BASE_SPEC = ":".join(BASE)
PROBE = """
import bz2, ctypes, ctypes.util, decimal, hashlib, json, lzma, os, pwd, sqlite3, ssl, uuid, zlib
context = ssl.create_default_context()
open("/tmp/probe", "w").write("ok")
open(os.path.expanduser("~/probe"), "w").write("ok")
print(json.dumps({
    "uid": os.getuid(), "user": pwd.getpwuid(os.getuid()).pw_name, "home": os.path.expanduser("~"),
    "certificates": context.cert_store_stats()["x509_ca"], "sqlite": sqlite3.sqlite_version,
    "lzma": lzma.decompress(lzma.compress(b"x")).decode(), "uuid": str(uuid.UUID(int=1)),
    "decimal": str(decimal.Decimal("1.10") + decimal.Decimal("2.2")), "sha256": hashlib.sha256(b"").hexdigest()[:8],
    "find_library": [ctypes.util.find_library(name) for name in ("c", "ssl", "z", "sqlite3")],
}))
"""
# The loader itself: with LD_DEBUG it says where it looked for a library, and found it.
LOADER = "import ctypes; ctypes.CDLL('libffi.so.8')"


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    root = copy_examples(tmp_path_factory.mktemp("debian") / "examples")
    # not the guestbook: its amd64-only base and builder are tested in test_package_examples
    targets = (":".join(BASE), ":".join(WEB), ":".join(CLI))
    lamina("--jobs=2", "package", *targets, cwd=root, cache=root.parent / "cache")
    return root


def test_base_runs_as_nonroot_with_the_stdlib_and_the_ca_bundle(python_base, load_image, run_container):
    image = load_image(python_base)
    result = run_container(image, entrypoint=["/usr/bin/python3.11", "-c", PROBE])
    assert result.exit_code == 0, result.stderr
    probe = json.loads(result.stdout)
    assert (probe["uid"], probe["user"], probe["home"]) == (65532, "nonroot", "/home/nonroot")
    assert probe["certificates"] > 100
    assert (probe["lzma"], probe["decimal"], probe["sha256"]) == ("x", "3.30", "e3b0c442")
    assert probe["uuid"] == "00000000-0000-0000-0000-000000000001" and probe["sqlite"].startswith("3.")
    # /etc/ld.so.cache, which lamina writes: ldconfig -p reads it for find_library, and ld.so searches it
    assert probe["find_library"] == ["libc.so.6", "libssl.so.3", "libz.so.1", "libsqlite3.so.0"]
    loader = run_container(image, entrypoint=["/usr/bin/python3.11", "-c", LOADER], environment={"LD_DEBUG": "libs"})
    assert loader.exit_code == 0 and "search cache=/etc/ld.so.cache" in loader.stderr, loader.stderr
    assert "trying file=/usr/lib/x86_64-linux-gnu/libffi.so.8" in loader.stderr


def test_the_sandbox_tree_unpacked_while_the_base_is_compressed_is_the_image_unpacked(packaged, tmp_path):
    """With two workers, the amd64 base is unpacked for the bytecode compiler as its layers
    are written; that tree holds exactly what unpacking the finished image's layers holds."""
    from lamina.cache.trees import manifest as manifest_of

    layout = image_outputs(packaged, *BASE)[0]
    digest = next(
        entry["digest"]
        for entry in json.loads(blob(layout, top_descriptor(layout)["digest"]).read_text())["manifests"]
        if entry["platform"]["architecture"] == "amd64"
    )
    trees = packaged.parent / "cache" / "trees"
    made = json.loads((trees / (digest.replace(":", "-") + ".manifest.json")).read_text())
    unpacked = tmp_path / "unpacked"
    for layer in manifest(layout)["layers"]:
        with tarfile.open(blob(layout, layer["digest"])) as archive:
            archive.extractall(unpacked, filter="tar")
    assert made == manifest_of(unpacked)
    assert "usr/bin/python3.11" in made and "etc/ld.so.cache" in made and "etc/passwd" in made


def test_the_base_is_a_dependency_of_the_images_on_it(packaged):
    dependencies = lamina("dependencies", ":".join(WEB), cwd=packaged, cache=packaged / "unused-cache").stdout.split()
    assert BASE_SPEC in dependencies
    dependents = lamina("dependents", BASE_SPEC, cwd=packaged, cache=packaged / "unused-cache").stdout.split()
    assert {":".join(WEB), ":".join(CLI)} <= set(dependents)


def test_images_on_it_run_as_nonroot(packaged):
    for target in (WEB, CLI, BASE):
        for architecture in ("amd64", "arm64"):
            assert config(image_outputs(packaged, *target)[0], architecture)["config"]["User"] == "65532"


def _members(layout, digest) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(blob(layout, digest)) as archive:
        return {
            m.name.rstrip("/"): (m, archive.extractfile(m).read() if m.isfile() else None) for m in archive.getmembers()
        }


def test_base_layers_hold_the_packages_and_what_their_scripts_would_make(packaged):
    layout = image_outputs(packaged, *BASE)[0]
    packages_layer, lamina_layer = (_members(layout, l["digest"]) for l in manifest(layout)["layers"])
    assert "usr/bin/python3.11" in packages_layer and "usr/share/doc/libc6/copyright" in packages_layer
    assert not {"bin/sh", "usr/bin/dpkg", "usr/bin/apt", "usr/bin/perl", "usr/bin/openssl"} & set(packages_layer)
    assert not [name for name in packages_layer if name.startswith(("usr/share/man/", "usr/share/info/"))]

    passwd = lamina_layer["etc/passwd"][1].decode()
    assert "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" in passwd.splitlines()
    assert "nonroot:x:65532:" in lamina_layer["etc/group"][1].decode().splitlines()
    tmp, home = lamina_layer["tmp"][0], lamina_layer["home/nonroot"][0]
    assert tmp.mode == 0o1777 and (home.uid, home.gid, home.mode) == (65532, 65532, 0o700)
    assert lamina_layer["etc/ssl/certs/ca-certificates.crt"][1].count(b"-----BEGIN CERTIFICATE-----") > 100

    lock = json.loads((packaged / BASE[0] / f"{BASE[1]}.lock.json").read_text())
    locked = {p["name"]: p["version"] for p in lock["architectures"]["amd64"]}
    recorded = {
        name.removeprefix("var/lib/dpkg/status.d/"): data.decode()
        for name, (_, data) in lamina_layer.items()
        if name.startswith("var/lib/dpkg/status.d/") and data is not None
    }
    assert set(recorded) == set(locked) | {f"{name}.md5sums" for name in locked}
    python = packages_layer["usr/bin/python3.11"][1]
    assert f"{hashlib.md5(python).hexdigest()}  usr/bin/python3.11\n" in recorded["python3.11-minimal.md5sums"]
    for name, version in locked.items():
        assert f"Package: {name}\n" in recorded[name] and f"Version: {version}\n" in recorded[name]
    assert not {"dpkg", "debconf", "init-system-helpers", "openssl"} & set(locked)


def _elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF file"
    return struct.unpack_from("<H", data, 18)[0]


@pytest.mark.parametrize(
    ("architecture", "machine", "tag"), [("arm64", EM_AARCH64, "aarch64"), ("amd64", EM_X86_64, "x86_64")]
)
def test_each_image_of_the_index_carries_its_own_binaries_and_wheels(packaged, architecture, machine, tag):
    layout = image_outputs(packaged, *WEB)[0]
    layers = manifest(layout, architecture)["layers"]
    base = _members(layout, layers[0]["digest"])
    third_party = {
        k: v for layer in venv_layers(layout, architecture) for k, v in _members(layout, layer["digest"]).items()
    }
    assert _elf_machine(base["usr/bin/python3.11"][1]) == machine
    assert _elf_machine(base[f"lib/{tag}-linux-gnu/libc.so.6"][1]) == machine
    wheel_tags = [
        line.split(": ", 1)[1]
        for name, (_, data) in third_party.items()
        if name.endswith(".dist-info/WHEEL")
        for line in data.decode().splitlines()
        if line.startswith("Tag: ")
    ]
    assert wheel_tags and all(t.endswith("-any") or tag in t for t in wheel_tags), wheel_tags
    assert any(tag in t for t in wheel_tags)  # pydantic-core ships compiled code
    shared_objects = [data for name, (_, data) in third_party.items() if name.endswith(".so")]
    assert shared_objects and all(_elf_machine(data) == machine for data in shared_objects)


class _Mirror(BaseHTTPRequestHandler):
    """A Debian mirror on loopback that relays deb.debian.org, except where a test lies."""

    overrides: dict[str, bytes | None] = {}  # path -> bytes to serve, or None for 404

    def do_GET(self):
        if self.path in self.overrides:
            body = self.overrides[self.path]
        else:
            upstream = requests.get("https://deb.debian.org" + self.path, timeout=120)
            body = upstream.content if upstream.ok else None
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    _Mirror.overrides = {}


def _use_mirror(root, url):
    build = root / BASE[0] / "BUILD"
    build.write_text(
        build.read_text().replace(
            'architectures=["amd64", "arm64"],', f'architectures=["amd64"], mirror="{url}/debian", updates=False,'
        )
    )


def _stored(cache):
    directory = cache / "blobs" / "sha256"
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def test_bad_or_missing_release_signature_is_refused(tmp_path, mirror):
    root = copy_examples(tmp_path / "examples")
    _use_mirror(root, mirror)
    lock = root / BASE[0] / f"{BASE[1]}.lock.json"
    before = lock.read_bytes()
    signed = requests.get("https://deb.debian.org/debian/dists/bookworm/InRelease", timeout=60).content
    release = requests.get("https://deb.debian.org/debian/dists/bookworm/Release", timeout=60).content
    tampered = signed.replace(b"\nDate: ", b"\nDate:  ", 1)  # one byte more: the signature no longer matches
    assert tampered != signed
    cases = {
        "tampered": ({"/debian/dists/bookworm/InRelease": tampered}, "is not signed by"),
        "unsigned": ({"/debian/dists/bookworm/InRelease": None, "/debian/dists/bookworm/Release.gpg": None,
                      "/debian/dists/bookworm/Release": release}, "has no signature"),
    }  # fmt: skip
    for overrides, expected in cases.values():
        _Mirror.overrides = overrides
        cache = tmp_path / f"cache-{expected}"
        result = lamina("generate-lockfiles", f"--resolve={BASE_SPEC}", cwd=root, cache=cache, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert expected in result.stderr and "--debian-insecure-skip-verify" in result.stderr
        assert lock.read_bytes() == before and _stored(cache) == []

    opted_out = lamina(
        "generate-lockfiles", f"--resolve={BASE_SPEC}", "--debian-insecure-skip-verify", cwd=root, cache=tmp_path / "c"
    )
    assert "amd64 packages" in opted_out.stdout
    pinned = json.loads(lock.read_text())["architectures"]["amd64"]
    assert pinned and all(p["url"].startswith(f"{mirror}/debian/pool/") for p in pinned)


def test_tampered_deb_is_refused_and_the_cache_stays_clean(tmp_path, mirror):
    root = copy_examples(tmp_path / "examples")
    lock_path = root / BASE[0] / f"{BASE[1]}.lock.json"
    lock = json.loads(lock_path.read_text())
    (netbase,) = [p for p in lock["architectures"]["amd64"] if p["name"] == "netbase"]
    genuine = requests.get(netbase["url"], timeout=60).content
    assert hashlib.sha256(genuine).hexdigest() == netbase["sha256"]
    tampered = genuine[:-1] + bytes([genuine[-1] ^ 1])
    _Mirror.overrides = {"/tampered/netbase.deb": tampered}
    netbase["url"] = f"{mirror}/tampered/netbase.deb"
    lock_path.write_text(json.dumps(lock, indent=2))

    cache = tmp_path / "cache"
    result = lamina("package", BASE_SPEC, cwd=root, cache=cache, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "netbase" in result.stderr and "does not match the lock's sha256" in result.stderr
    locked = {p["sha256"] for arch in lock["architectures"].values() for p in arch}
    assert set(_stored(cache)) <= locked  # only verified .debs, no partial or tampered blob, no layer
    assert not (root / "dist").exists()


def test_stale_lock_is_a_clear_error_and_generate_lockfiles_repins_from_the_real_archive(tmp_path):
    root = copy_examples(tmp_path / "examples")
    build = root / BASE[0] / "BUILD"
    build.write_text(build.read_text().replace('architectures=["amd64", "arm64"],', 'architectures=["amd64"],'))
    cache = tmp_path / "cache"
    stale = lamina("package", BASE_SPEC, cwd=root, cache=cache, check=False)
    assert stale.returncode == 1 and "Traceback" not in stale.stderr, stale.stderr
    assert f"run `lamina generate-lockfiles --resolve={BASE_SPEC}`" in stale.stderr

    lamina("generate-lockfiles", f"--resolve={BASE_SPEC}", cwd=root, cache=cache)
    lock = json.loads((root / BASE[0] / f"{BASE[1]}.lock.json").read_text())
    assert list(lock["architectures"]) == ["amd64"]
    pinned = {p["name"]: p for p in lock["architectures"]["amd64"]}
    assert {"libc6", "libpython3.11-stdlib", "python3.11-minimal", "ca-certificates", "zlib1g"} <= set(pinned)
    for package in pinned.values():
        assert len(package["sha256"]) == 64 and package["size"] > 0 and package["url"].endswith(".deb")
    layout = image_outputs(root, *BASE)[0]
    lamina("package", BASE_SPEC, cwd=root, cache=cache)
    assert manifest(layout)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"  # one architecture
