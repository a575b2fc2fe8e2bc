"""Which repository each chart is fetched from.

A component names its publisher's repository: a classic Helm repository (URL + chart name) or an
OCI reference. Air-gapped companies serve every chart from one mirror instead (Artifactory, Harbor,
ECR, S3 behind HTTP); the environment's `charts.mirror` names it, and EKSML_CHART_MIRROR overrides
that for one run (CI, tests). Chart names stay the publisher's, so one mirror holds them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from eksml.config.models import Charts, Environment
from eksml.errors import ConfigError, Issue, StageError

MIRROR_ENV = "EKSML_CHART_MIRROR"
OCI = "oci://"


@dataclass(frozen=True)
class ChartRequest:
    """One chart at one version, and the repository to fetch it from."""

    name: str  # the chart's name in its repository (for OCI: the last path segment)
    version: str
    repository: str  # http(s) URL of a Helm repository, or oci://registry/path (without the chart name)
    release: Optional[str] = None  # the release it is for, to name in messages

    @classmethod
    def of(cls, chart: str, version: str, repository: Optional[str] = None, release: Optional[str] = None) -> "ChartRequest":
        """From a component's chart declaration: (name, repo URL) or a full oci:// reference."""
        if repository is None:
            if not chart.startswith(OCI):
                raise ValueError(f"chart '{chart}' names no repository and is not an oci:// reference")
            repository, _, chart = chart.rstrip("/").rpartition("/")
        return cls(chart, version, repository.rstrip("/"), release)

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith(OCI)

    @property
    def oci_reference(self) -> str:
        return f"{self.repository}/{self.name}"

    @property
    def cache_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    def from_mirror(self, mirror: Optional[str]) -> "ChartRequest":
        if not mirror and not self.repository:  # a chart no publisher serves (Chart.repo UNPUBLISHED)
            raise StageError("charts", f"chart {self.name} is published in no Helm repository",
                             hint="package it from its sources into your chart mirror and set charts.mirror "
                                  "(or EKSML_CHART_MIRROR) to that mirror")
        return self if not mirror else replace(self, repository=mirror.rstrip("/"))

    def describe(self) -> str:
        """`chart X version V from REPO`, with any password in the URL hidden."""
        return f"chart {self.name} version {self.version} from {redact(self.repository)}"


def chart_mirror(env: Optional[Environment], environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """EKSML_CHART_MIRROR when set (validated like the environment setting), else `charts.mirror`."""
    environ = os.environ if environ is None else environ
    override = environ.get(MIRROR_ENV, "").strip()
    if override:
        try:
            return Charts(mirror=override).mirror
        except ValidationError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise ConfigError([Issue(MIRROR_ENV, "", message)]) from None
    return env.charts.mirror if env is not None else None


def redact(url: str) -> str:
    """The URL without its password: messages and logs must never show credentials."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
