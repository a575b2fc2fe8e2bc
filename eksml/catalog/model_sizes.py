"""Nominal GPU memory of well-known models (sourced JSON), so validation can refuse a model that
cannot fit the GPU slice it is given before anything is deployed."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Optional

_FILE = Path(__file__).with_name("model_sizes.json")


@functools.cache
def _sizes() -> dict[str, float]:
    data = json.loads(_FILE.read_text())
    return {name.lower(): float(size) for name, size in data["models"].items()}


def nominal_size_gb(model_id: str) -> Optional[float]:
    """GB of weights for a Hugging Face model id (case-insensitive), None when not listed."""
    return _sizes().get(model_id.lower())


def known_models() -> list[str]:
    return sorted(json.loads(_FILE.read_text())["models"])
