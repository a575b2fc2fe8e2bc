"""Where the project's files live: the repository root, found from this package."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = PROJECT_ROOT / "environments"
HELM_VALUES_DIR = PROJECT_ROOT / "helm_values"
WORK_DIR_VARIABLE = "EKSML_WORK_DIR"


def work_root() -> Path:
    """Per-environment working state (emulator data, terraform working dirs, renders, last outputs).

    EKSML_WORK_DIR moves it (tests, benchmarks, or several checkouts sharing one machine).
    """
    moved = os.environ.get(WORK_DIR_VARIABLE)
    if moved is None or moved == "":
        return PROJECT_ROOT / ".eksml"
    if "\x00" in moved or (os.path.lexists(moved) and not os.path.isdir(moved)):
        from eksml.errors import ConfigError, Issue

        shown = moved.encode("unicode_escape").decode("ascii")[:200]
        raise ConfigError([Issue(WORK_DIR_VARIABLE, "", f"'{shown}' is not a folder; point it at a folder "
                                 "eksml may create and write to (or unset it for .eksml/ in the project)")])
    return Path(moved)
