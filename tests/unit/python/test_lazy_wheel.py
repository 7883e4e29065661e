"""A wheel read through range requests gives the same module names as the whole wheel and
transfers only part of it; a server without ranges is refused, so the caller downloads."""

from __future__ import annotations

import http.server
import io
import re
import threading
import zipfile
from pathlib import Path

import pytest

from lamina.python.lazy_wheel import CHUNK, RangesUnsupported, RemoteFile
from lamina.python.modules import top_level_modules
from lamina.transport import Transport


def _wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(40):  # incompressible bulk, so the wheel is many chunks long
            archive.writestr(f"big/data{index}.bin", bytes(range(256)) * 1024 * 4, compress_type=zipfile.ZIP_STORED)
        archive.writestr("big/__init__.py", "")
        archive.writestr("big-1.0.dist-info/top_level.txt", "big\n")
    return path


def _serve(root: Path, *, ranges: bool):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
            if not ranges or wanted is None:
                return super().do_GET()
            data = (root / self.path.lstrip("/")).read_bytes()
            start, end = int(wanted[1]), min(int(wanted[2]), len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            self.wfile.write(data[start : end + 1])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("ranges", [True, False])
def test_module_names_through_range_requests(tmp_path, ranges):
    wheel = _wheel(tmp_path / "big-1.0-py3-none-any.whl")
    server = _serve(tmp_path, ranges=ranges)
    url = f"http://127.0.0.1:{server.server_address[1]}/{wheel.name}"
    try:
        if not ranges:
            with pytest.raises(RangesUnsupported):
                RemoteFile(url, Transport())
            return
        remote = RemoteFile(url, Transport())
        assert top_level_modules(io.BufferedReader(remote, CHUNK), wheel.name) == top_level_modules(wheel, wheel.name)
        assert remote.size == wheel.stat().st_size and remote.fetched <= 3 * CHUNK < remote.size
    finally:
        server.shutdown()
        server.server_close()
