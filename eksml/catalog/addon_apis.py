"""The custom resource definitions EKS add-ons install (sourced JSON): objects of those kinds are
checked against them as against a chart's CRDs, installed before every release."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("addon_apis.json")


@functools.cache
def addon_crds() -> dict[str, tuple[dict[str, Any], ...]]:
    """EKS add-on name -> the CRDs it installs."""
    return {name: tuple(crds) for name, crds in json.loads(_FILE.read_text())["addons"].items()}


def addon_release(addon: str) -> str:
    """The name the checks give what an add-on installs: a release that is there before every other."""
    return f"EKS add-on {addon}"


@functools.cache
def addon_releases() -> frozenset[str]:
    return frozenset(addon_release(addon) for addon in addon_crds())


@functools.cache
def addon_api_groups() -> frozenset[str]:
    return frozenset(crd["spec"]["group"] for crds in addon_crds().values() for crd in crds)
