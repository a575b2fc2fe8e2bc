"""Charts fetched once, kept by name and version, reused by every later render.

The cache lives under the work root (.eksml/charts/<name>-<version>.tgz, shared by all environments).
A package enters it only whole (written beside, then renamed) and only after its digest matched the
repository index, so a cached file is always one that was accepted. A cached chart is used without
any network access; `eksml charts pull ENV` fills the cache ahead of time.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from eksml.charts.cache_check import check_package, record_digest, verify_cached
from eksml.charts.repository import STAGE, HttpRepository
from eksml.charts.sources import ChartRequest, redact
from eksml.errors import StageError
from eksml.paths import work_root

HELM_PULL_TIMEOUT_S = 300


def default_cache_dir() -> Path:
    return work_root() / "charts"


class ChartError(StageError):
    """A chart that could not be fetched: names the chart, its version and repository, and the cause."""

    def __init__(self, request: ChartRequest, cause: StageError):
        super().__init__(STAGE, f"{request.describe()}: {cause.message}",
                         resource=request.release and f"release {request.release}", hint=cause.hint)
        self.request = request
        self.cause = cause.message


@dataclass(frozen=True)
class CachedChart:
    request: ChartRequest
    path: Path
    fetched: bool  # False: it was in the cache already


class ChartCache:
    """Thread-safe: releases render in parallel and may ask for the same chart at once."""

    def __init__(self, root: Optional[Path] = None, helm: Optional[Callable[[], Path]] = None):
        self.root = root or default_cache_dir()
        self._helm = helm  # how to find helm; only OCI repositories need it
        self._repositories: dict[str, HttpRepository] = {}
        self._lock = threading.Lock()
        self._chart_locks: dict[str, threading.Lock] = {}

    def path_of(self, request: ChartRequest) -> Path:
        return self.root / request.cache_name

    def get(self, request: ChartRequest) -> CachedChart:
        """The chart's package, from the cache or fetched into it."""
        path = self.path_of(request)
        with self._lock:
            chart_lock = self._chart_locks.setdefault(request.cache_name, threading.Lock())
        with chart_lock:
            if path.is_file():
                try:
                    verify_cached(request, path)  # the cache folder is not trusted: checked on every use
                except StageError as exc:
                    raise ChartError(request, exc) from None
                return CachedChart(request, path, fetched=False)
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                if request.is_oci:
                    self._pull_oci(request, path)
                else:
                    self._store(request, self._repository(request.repository).download(request), path)
            except ChartError:
                raise
            except StageError as exc:
                raise ChartError(request, exc) from None
            return CachedChart(request, path, fetched=True)

    def _repository(self, url: str) -> HttpRepository:
        with self._lock:
            return self._repositories.setdefault(url, HttpRepository(url))

    def _store(self, request: ChartRequest, data: bytes, path: Path) -> None:
        """Write beside, check it is the chart asked for, then rename into place."""
        handle, partial = tempfile.mkstemp(dir=self.root, prefix=f".{request.cache_name}.", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            self._check_contents(request, Path(partial))
            record_digest(path, data)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def _check_contents(self, request: ChartRequest, package: Path) -> None:
        try:
            check_package(request, package)
        except StageError as exc:
            raise StageError(STAGE, f"the download {exc.message}") from None

    def _pull_oci(self, request: ChartRequest, path: Path) -> None:
        """OCI registries speak a protocol of their own: the real helm pulls (and checks the manifest digest)."""
        if self._helm is None:
            from eksml.kube_tools import helm_binary

            helm = helm_binary()
        else:
            helm = self._helm()
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".pull-") as scratch:
            command = [str(helm), "pull", request.oci_reference, "--version", request.version, "--destination", scratch]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=HELM_PULL_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise StageError(STAGE, f"helm pull did not finish within {HELM_PULL_TIMEOUT_S}s") from None
            if result.returncode != 0:
                raise StageError(STAGE, f"helm pull failed: {_helm_error(result.stderr)}",
                                 hint="check the registry URL, and `helm registry login` for a private registry")
            pulled = sorted(Path(scratch).glob("*.tgz"))
            if len(pulled) != 1:
                raise StageError(STAGE, f"helm pull left {len(pulled)} packages, expected one")
            self._store(request, pulled[0].read_bytes(), path)


def _helm_error(stderr: str) -> str:
    lines = [line.removeprefix("Error: ").strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith(("level=", "WARNING"))]
    return redact((errors or lines or ["no message"])[-1])[:400]
