"""Locates the tools the project installs for itself (.tools/), so commands work outside `make` too."""

from __future__ import annotations

import os

from eksml.paths import PROJECT_ROOT

PROJECT_NODE = PROJECT_ROOT / ".tools" / "node_modules" / "node" / "bin" / "node"


def prefer_supported_node() -> None:
    """jsii needs a supported Node; the machine's Node 20 is end-of-life for it."""
    if "JSII_NODE" not in os.environ and PROJECT_NODE.is_file():
        os.environ["JSII_NODE"] = str(PROJECT_NODE)
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
