"""A loopback Helm repository for the chart tests: `http.server` on a free port of 127.0.0.1 over a
directory (the team's shared chart repository, or a tampered copy), counting every request so a
test can prove a cached chart costs no download. No network beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import pytest
import yaml
from shared_data import SHARED_DIR

CHARTS_DIR = SHARED_DIR / "charts"


class ChartServer:
    def __init__(self, directory: Path, auth: Optional[tuple[str, str]] = None):
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if auth is not None:
                    expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        self.send_error(401, "Unauthorized")
                        return
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def downloads(self) -> list[str]:
        return [path for path in self.requests if path.endswith(".tgz")]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def serve(directory: Path, **kwargs) -> Iterator[ChartServer]:
    server = ChartServer(directory, **kwargs)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def chart_mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ChartServer]:
    """The shared chart repository served on loopback, set as EKSML_CHART_MIRROR, with an empty cache."""
    assert (CHARTS_DIR / "index.yaml").is_file(), f"no chart repository at {CHARTS_DIR}"
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    for server in serve(CHARTS_DIR):
        monkeypatch.setenv("EKSML_CHART_MIRROR", server.url)
        yield server


def repository_copy(target: Path, charts: dict[str, str], edit=None) -> Path:
    """A repository holding copies of some shared packages {name: version}, with an index `edit` may change."""
    target.mkdir(parents=True, exist_ok=True)
    index = yaml.safe_load((CHARTS_DIR / "index.yaml").read_text())
    entries = {}
    for name, version in charts.items():
        entry = next(e for e in index["entries"][name] if e["version"] == version)
        shutil.copy(CHARTS_DIR / entry["urls"][0], target / entry["urls"][0])
        entries[name] = [dict(entry)]
    copy = {"apiVersion": "v1", "entries": entries}
    if edit is not None:
        edit(copy)
    (target / "index.yaml").write_text(yaml.safe_dump(copy))
    return target
