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
