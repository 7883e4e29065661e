"""A small C extension: built from source only, the way psycopg2 and friends are."""

import os
import socket

from setuptools import Extension, setup

# What a build script must not be able to do in the sandbox: reach the network, or write
# outside its build directory. The test says where (and expects neither to happen).
if os.environ.get("HELLO_NATIVE_PROBE_PORT"):
    try:
        socket.create_connection(("127.0.0.1", int(os.environ["HELLO_NATIVE_PROBE_PORT"])), timeout=3).close()
        print("probe: network reached")
    except OSError as err:
        print(f"probe: no network ({type(err).__name__})")
if os.environ.get("HELLO_NATIVE_PROBE_PATH"):
    try:
        with open(os.environ["HELLO_NATIVE_PROBE_PATH"], "w") as handle:
            handle.write("escaped")
        print("probe: wrote outside")
    except OSError as err:
        print(f"probe: write refused ({type(err).__name__})")

setup(
    name="hello-native",
    version="1.0",
    ext_modules=[Extension("hello_native", ["hello_native.c"])],
)
