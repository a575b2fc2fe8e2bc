"""A cached chart package is checked before every use, not only when it entered the cache.

The cache is a folder anyone can write to: a package swapped for another chart, truncated, or
edited would otherwise be rendered and its errors blamed on the user's values. When a package is
stored, the sha256 it was accepted with (the repository index's digest) is kept beside it; before
use the package must still have that digest, and its own Chart.yaml must name the chart and version
asked for. A mismatch is reported as a corrupt cache, with the file to remove.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eksml.charts.package import read_chart
from eksml.charts.repository import STAGE, same_version
from eksml.charts.sources import ChartRequest
from eksml.config.file_write import atomic_write
from eksml.errors import StageError

DIGEST_SUFFIX = ".sha256"


def digest_file(package: Path) -> Path:
    return package.with_name(package.name + DIGEST_SUFFIX)


def record_digest(package: Path, data: bytes) -> None:
    """Called once the package was accepted: the digest it must keep. Written whole (another eksml
    storing the same chart never leaves a reader a half-written digest)."""
    atomic_write(digest_file(package), (hashlib.sha256(data).hexdigest() + "\n").encode(), STAGE)


def check_package(request: ChartRequest, package: Path) -> None:
    """StageError naming the package when it is not the chart and version asked for."""
    try:
        info = read_chart(package)
    except StageError as exc:
        raise StageError(STAGE, f"is not a chart package ({exc.message})") from None
    if info.name != request.name or not same_version(info.version, request.version):
        raise StageError(STAGE, f"holds chart '{info.name}' {info.version}, not "
                                f"'{request.name}' {request.version}")


def verify_cached(request: ChartRequest, package: Path) -> None:
    """The cached package is still the one accepted; else StageError saying the cache is corrupt."""
    problem = None
    recorded = digest_file(package)
    try:
        if recorded.is_file():
            expected = recorded.read_text().strip().lower()
            actual = hashlib.sha256(package.read_bytes()).hexdigest()
            if actual != expected:
                problem = f"its sha256 is {actual}, but it was accepted with {expected}"
        if problem is None:
            check_package(request, package)
    except StageError as exc:
        problem = exc.message
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}"
    if problem:
        raise StageError(STAGE, f"the chart cache is corrupt: {package} {problem}",
                         hint=f"remove {package} (and {recorded.name}); eksml fetches it again from the repository")
