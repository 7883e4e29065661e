#!/usr/bin/env bash
# Make sure this machine has a CPython X.Y (default 3.12) where Pants' default
# [python-bootstrap] search_path looks (pyenv's versions, then PATH): the tests build
# pantsbuild/example-python, whose code asks for ==3.12.*, and run its .pex with it.
# Where there is none, install one with uv (which downloads python-build-standalone from
# GitHub) and link it as /usr/local/bin/pythonX.Y. Prints the interpreter's path.
set -euo pipefail

version="${1:-3.12}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"

works() { [ -x "$1" ] && "$1" -c 'import sys' >/dev/null 2>&1; }

for candidate in "$pyenv_root"/versions/"$version".*/bin/python"$version" $(type -ap "python$version" || true); do
    case "$candidate" in "$pyenv_root/shims/"*) continue ;; esac  # a shim runs only the version pyenv selects
    if works "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

echo "ensure_python.sh: no CPython $version found; installing one with uv" >&2
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet uv
if ! "$tools/venv/bin/uv" python install --install-dir /opt/lamina-pythons "$version" >&2; then
    echo "ensure_python.sh: could not install CPython $version; install one (e.g. pyenv install $version) and rerun" >&2
    exit 1
fi
installed="$(ls -d /opt/lamina-pythons/cpython-"$version".*/bin/python"$version" | head -n 1)"
ln -sf "$installed" "/usr/local/bin/python$version"
echo "/usr/local/bin/python$version"
