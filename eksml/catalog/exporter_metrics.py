"""The metric names the platform's exporters publish (sourced JSON): dashboards and alert rules are
checked to query only these, and the DCGM exporter is configured with exactly the dcgm list."""

from __future__ import annotations

import functools
import json
from pathlib import Path

_FILE = Path(__file__).with_name("exporter_metrics.json")


@functools.cache
def _data() -> dict:
    return json.loads(_FILE.read_text())


def dcgm_counters() -> dict[str, str]:
    """DCGM field name -> Prometheus type, in the order of the exporter's CSV."""
    return dict(_data()["dcgm"])


def known_metrics() -> frozenset[str]:
    data = _data()
    return frozenset([*data["dcgm"], *data["vllm"], *data["kube_state_metrics"]])
