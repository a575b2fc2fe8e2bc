"""Where the team's shared test data lives: upstream CRDs, chart values and schemas, and the sourced
GPU facts. Read in place at test time, never copied into the project.

It sits next to the clone (../shared) unless EKSML_SHARED_DIR names another place (a clone made
elsewhere, a CI runner).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DIR = Path(os.environ.get("EKSML_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
UPSTREAM_DIR = SHARED_DIR / "upstream"
GPU_FACTS_FILE = SHARED_DIR / "gpu" / "gpu_facts.json"
