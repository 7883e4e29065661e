"""pants.toml: Pants' spellings work, Pants' own options are tolerated, lamina's are checked."""

from __future__ import annotations

import pytest

from lamina.config import load_config
from lamina.errors import ConfigError


def test_pants_spellings(tmp_path):
    (tmp_path / "pants.toml").write_text(
        '[GLOBAL]\npants_version = "2.21.0"\nbackend_packages.add = ["pants.backend.python", "myplugin"]\n'
        'pythonpath = ["%(buildroot)s/build_support"]\n'
        '[python]\nresolves = { python-default = "a.lock" }\nenable_resolves = true\nresolver_manylinux = "x"\n'
        "[pytest]\nargs = []\n[docker]\nbuild_args = []\n"
    )
    config = load_config(tmp_path)
    assert config.resolves == {"python-default": "a.lock"}
    assert config.backend_packages == ("pants.backend.python", "myplugin")
    assert config.pythonpath == (f"{tmp_path}/build_support",)
    assert config.lock_path("python-default") == tmp_path / "a.lock"


def test_resolves_table(tmp_path):
    (tmp_path / "pants.toml").write_text('[python.resolves]\nweb = "3rdparty/web.lock"\n')
    assert load_config(tmp_path).resolves == {"web": "3rdparty/web.lock"}


def test_unknown_lamina_option_is_an_error_with_suggestion(tmp_path):
    (tmp_path / "pants.toml").write_text("[oci]\nvenv_directory = '/v'\n")
    with pytest.raises(ConfigError, match=r"unknown option 'venv_directory' in \[oci\]; did you mean 'venv_dir'"):
        load_config(tmp_path)


def test_unknown_resolve_names_the_known_ones(tmp_path):
    (tmp_path / "pants.toml").write_text('[python.resolves]\nweb = "w.lock"\n')
    with pytest.raises(ConfigError, match="known resolves: web"):
        load_config(tmp_path).lock_path("cli")


def test_debian_section(tmp_path):
    (tmp_path / "pants.toml").write_text(
        '[debian]\nmirror = "http://127.0.0.1:9/debian"\nkeyring = "keys/archive.pgp"\nverify_signatures = false\n'
    )
    config = load_config(tmp_path)
    assert config.debian_mirror == "http://127.0.0.1:9/debian"
    assert config.debian_keyring == tmp_path / "keys/archive.pgp"
    assert config.debian_verify_signatures is False
    assert config.debian_security_mirror == "https://deb.debian.org/debian-security"
    (tmp_path / "pants.toml").write_text('[debian]\nmirrors = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown option 'mirrors' in \[debian\]; did you mean 'mirror'"):
        load_config(tmp_path)


def test_credentials_in_urls_are_split_off_and_interpolated_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_TOKEN", "s3cret-token")
    (tmp_path / "pants.toml").write_text(
        '[lamina]\nindex_urls = ["https://ci:%(env.INDEX_TOKEN)s@pypi.example.com/simple", "https://pypi.org/simple"]\n'
        '[debian]\nmirror = "https://mirror:pw@deb.example.com/debian"\n'
        '[GLOBAL]\npythonpath = ["%(buildroot)s/plugins"]\n'
    )
    config = load_config(tmp_path)
    assert config.index_urls == ("https://pypi.example.com/simple", "https://pypi.org/simple")
    assert config.debian_mirror == "https://deb.example.com/debian"
    assert config.credentials["pypi.example.com"].password == "s3cret-token"
    assert config.credentials["deb.example.com"].username == "mirror"
    assert config.pythonpath == (f"{tmp_path}/plugins",)
    assert "s3cret-token" not in repr(config) and "pw@" not in repr(config)
    monkeypatch.delenv("INDEX_TOKEN")
    with pytest.raises(ConfigError, match=r"uses %\(env.INDEX_TOKEN\)s, but \$INDEX_TOKEN is not set"):
        load_config(tmp_path)


def test_option_types_are_checked(tmp_path):
    (tmp_path / "pants.toml").write_text('[oci]\nstamp = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[oci\] stamp must be a bool, not 'yes'"):
        load_config(tmp_path)
    (tmp_path / "pants.toml").write_text('[oci.registries."r.example.com"]\nplain_http = 1\n')
    with pytest.raises(ConfigError, match=r"plain_http must be a bool"):
        load_config(tmp_path)


def test_builder_and_sandbox_options(tmp_path):
    (tmp_path / "pants.toml").write_text('[python]\nbuilder = "//3rdparty/debian:builder"\nsandbox = "docker"\n')
    config = load_config(tmp_path)
    assert (config.python_builder, config.python_sandbox) == ("//3rdparty/debian:builder", "docker")
    (tmp_path / "pants.toml").write_text('[python]\nsandbox = "chroot"\n')
    with pytest.raises(ConfigError, match=r"\[python\] sandbox must be one of auto, bubblewrap, docker, not 'chroot'"):
        load_config(tmp_path)


def test_registry_mirrors_and_pants_docker_options(tmp_path, monkeypatch):
    (tmp_path / "pants.toml").write_text(
        '[oci.registries."docker.io"]\nmirrors = ["127.0.0.1:5000", "mirror.example.com"]\n'
        '[docker]\nbuild_args = ["VERSION=1", "FROM_ENV"]\nuse_buildx = true\ndefault_repository = "{directory}/{name}"\n'
        '[docker.registries.company]\naddress = "registry.example.com/team"\ndefault = true\nextra_image_tags = ["ci"]\n'
    )
    config = load_config(tmp_path)
    assert config.mirrors == {"index.docker.io": ("127.0.0.1:5000", "mirror.example.com")}
    assert config.docker.build_args == ("VERSION=1", "FROM_ENV")  # use_buildx: Pants' own, accepted
    assert config.docker.default_repository == "{directory}/{name}"
    company = config.docker.registries["company"]
    assert (company.address, company.default, company.extra_image_tags) == ("registry.example.com/team", True, ("ci",))
    (tmp_path / "pants.toml").write_text("[docker.registries.nowhere]\ndefault = true\n")
    with pytest.raises(ConfigError, match=r"\[docker.registries.nowhere\] has no address"):
        load_config(tmp_path)


def test_interpreter_search_path(tmp_path):
    (tmp_path / "pants.toml").write_text("[python]\n")
    assert load_config(tmp_path).interpreter_search_path == ("<PYENV>", "<PATH>")  # Pants' default
    (tmp_path / "pants.toml").write_text('[python-bootstrap]\nsearch_path = ["<PATH>", "/opt/python/bin"]\n')
    assert load_config(tmp_path).interpreter_search_path == ("<PATH>", "/opt/python/bin")
    (tmp_path / "pants.toml").write_text('[python]\ninterpreter_search_paths = ["<PYENV_LOCAL>"]\n')  # before Pants 2.9
    assert load_config(tmp_path).interpreter_search_path == ("<PYENV_LOCAL>",)
    (tmp_path / "pants.toml").write_text('[python-bootstrap]\nsearch_path = "<PATH>"\n')
    with pytest.raises(ConfigError, match=r"\[python-bootstrap\] search_path must be a list"):
        load_config(tmp_path)


def test_interpreter_constraints_per_resolve(tmp_path):
    (tmp_path / "pants.toml").write_text(
        '[python]\ninterpreter_constraints = [">=3.9"]\ndefault_to_resolve_interpreter_constraints = true\n'
        '[python.resolves]\na = "a.lock"\nb = "b.lock"\n'
        '[python.resolves_to_interpreter_constraints]\nb = ["==3.12.*"]\n'
    )
    config = load_config(tmp_path)
    assert config.resolve_interpreter_constraints("a") == (">=3.9",)
    assert config.resolve_interpreter_constraints("b") == ("==3.12.*",)
    assert config.default_interpreter_constraints("b") == ("==3.12.*",)
    (tmp_path / "pants.toml").write_text('[python]\ndefault_to_resolve_interpreter_constraints = "yes"\n')
    with pytest.raises(ConfigError, match=r"default_to_resolve_interpreter_constraints must be a bool"):
        load_config(tmp_path)
