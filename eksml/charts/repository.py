"""A classic Helm chart repository over HTTP(S): its index.yaml and the packages it lists.

Plain urllib, no helm: a repository is an index plus files, and the index carries each package's
sha256 digest, which is checked before a package is accepted. Credentials may ride in the URL
(https://user:password@host/path, as Artifactory and Nexus hand them out); they are sent as basic
auth and never printed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import yaml

from eksml.charts.sources import ChartRequest, redact
from eksml.errors import StageError

STAGE = "charts"
TIMEOUT_S = 60
_V = re.compile(r"^v(?=\d)")


@dataclass(frozen=True)
class IndexEntry:
    name: str
    version: str
    url: str  # absolute
    digest: Optional[str]  # sha256 hex, when the index has one


def fetch(url: str, what: str) -> bytes:
    """GET with a timeout; any failure is a StageError that names the URL (without password)."""
    parts = urlsplit(url)
    headers = {"User-Agent": "eksml"}
    if parts.password is not None:
        token = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password)}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        url = urlunsplit(parts._replace(netloc=netloc))
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise StageError(STAGE, f"{what}: {redact(url)} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StageError(STAGE, f"{what}: cannot reach {redact(url)} ({reason})",
                         hint="check the repository URL, the network path, or set EKSML_CHART_MIRROR / charts.mirror "
                              "to a reachable mirror") from None


def same_version(a: str, b: str) -> bool:
    """Publishers disagree on a leading 'v' (cert-manager's v1.19.1); Helm treats both as one version."""
    return _V.sub("", a) == _V.sub("", b)


class HttpRepository:
    """One repository URL; its index is fetched at most once per instance, even from several threads."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self._entries: Optional[dict[str, Any]] = None
        self._error: Optional[StageError] = None
        self._lock = threading.Lock()

    def entries(self) -> dict[str, Any]:
        """The index's entries; an unreachable repository fails every later call at once, the same way."""
        with self._lock:
            if self._error is not None:
                raise self._error
            try:
                return self._load()
            except StageError as exc:
                self._error = exc
                raise

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            raw = fetch(f"{self.url}/index.yaml", f"chart repository {redact(self.url)}")
            try:
                index = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise StageError(STAGE, f"{redact(self.url)}/index.yaml is not valid YAML: {exc}") from None
            if not isinstance(index, dict) or not isinstance(index.get("entries"), dict):
                raise StageError(STAGE, f"{redact(self.url)}/index.yaml is not a Helm repository index (no entries)")
            self._entries = index["entries"]
        return self._entries

    def find(self, request: ChartRequest) -> IndexEntry:
        versions = self.entries().get(request.name) or []
        match = next((v for v in versions if str(v.get("version")) == request.version), None) or next(
            (v for v in versions if same_version(str(v.get("version")), request.version)), None)
        if match is None:
            have = ", ".join(sorted(str(v.get("version")) for v in versions)) or "no version of it"
            raise StageError(STAGE, f"the repository does not have it (it has {have})",
                             hint="add the chart to the repository (mirror), or pin a version it has in the environment file")
        urls = match.get("urls") or []
        if not urls:
            raise StageError(STAGE, "the repository index lists no download URL for it")
        digest = match.get("digest")
        return IndexEntry(request.name, str(match["version"]), urljoin(f"{self.url}/", urls[0]),
                          str(digest).lower() if digest else None)

    def download(self, request: ChartRequest) -> bytes:
        """The package's bytes, refused unless they match the digest the index gives."""
        entry = self.find(request)
        data = fetch(entry.url, "downloading the package")
        if entry.digest is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != entry.digest:
                raise StageError(
                    STAGE, f"digest mismatch: the package at {redact(entry.url)} has sha256 {actual}, but the "
                    f"repository index says {entry.digest}; refusing it",
                    hint="the mirror's package or its index.yaml was changed or corrupted: re-publish the chart "
                         "and its index")
        return data
