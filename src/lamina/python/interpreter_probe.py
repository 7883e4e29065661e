"""What a CPython on this machine is, for wheel selection: run as a script by each interpreter
lamina finds (``python -I -S interpreter_probe.py``; ``-I`` keeps this directory, which holds
a ``platform`` module of lamina's, off ``sys.path``), and imported for the running one."""

import json
import os
import platform
import sys
import sysconfig


def describe() -> dict:
    """The running interpreter: implementation, full version, machine, C library, stdlib."""
    try:  # the C library this process runs on (platform.libc_ver() of old Pythons reads the binary)
        libc, libc_version = os.confstr("CS_GNU_LIBC_VERSION").split()
    except (AttributeError, OSError, ValueError):
        libc, libc_version = platform.libc_ver()
    return {
        "implementation": platform.python_implementation(),
        "python_version": platform.python_version(),
        "machine": platform.machine(),
        "libc": "glibc" if libc.lower() == "glibc" else libc,
        "libc_version": libc_version,
        "stdlib_dir": sysconfig.get_paths()["stdlib"],
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(describe()))
