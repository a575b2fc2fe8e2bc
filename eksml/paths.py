"""Where the project's files live: the repository root, found from this package."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = PROJECT_ROOT / "environments"
HELM_VALUES_DIR = PROJECT_ROOT / "helm_values"


def work_root() -> Path:
    """Per-environment working state (emulator data, terraform working dirs, renders, last outputs).

    EKSML_WORK_DIR moves it (tests, benchmarks, or several checkouts sharing one machine).
    """
    return Path(os.environ.get("EKSML_WORK_DIR") or PROJECT_ROOT / ".eksml")
