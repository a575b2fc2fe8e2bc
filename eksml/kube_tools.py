"""Which helm and kubectl eksml runs: the project's own (.tools/bin, put there by `make install`) first,
then PATH. One place decides, so render, install and the doctor always agree on the binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from eksml.errors import StageError
from eksml.paths import PROJECT_ROOT

TOOLS_BIN = PROJECT_ROOT / ".tools" / "bin"
INSTALL_HINT = "make install (or .venv/bin/python scripts/install_kube_tools.py) puts Helm 4 and kubectl into .tools/bin"
MINIMUM_HELM = (3, 14)  # the oldest Helm that templates every pinned chart (Helm 4 is what make install brings)
_TIMEOUT_S = 15

Tool = Literal["helm", "kubectl"]


@dataclass(frozen=True)
class FoundTool:
    name: str
    path: Path
    source: Literal[".tools", "PATH"]


@dataclass(frozen=True)
class ToolVersion:
    text: str  # as the tool reports it, e.g. "v4.1.4+g05fa379" or "v1.34.5"
    numbers: tuple[int, ...]  # (major, minor, patch)


def find_tool(name: Tool, environ: Optional[Mapping[str, str]] = None, tools_bin: Path = TOOLS_BIN) -> Optional[FoundTool]:
    """The project's copy when it is executable, else the first one on PATH, else None."""
    own = tools_bin / name
    if own.is_file() and os.access(own, os.X_OK):
        return FoundTool(name, own, ".tools")
    environ = os.environ if environ is None else environ
    on_path = shutil.which(name, path=environ.get("PATH", ""))
    return FoundTool(name, Path(on_path), "PATH") if on_path else None


def tool_version(tool: FoundTool) -> ToolVersion:
    """The version the binary reports; StageError when it does not run."""
    command = [str(tool.path), "version", "--short"] if tool.name == "helm" else [
        str(tool.path), "version", "--client", "-o", "json"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StageError("tools", f"{tool.path} does not run: {exc}", hint=INSTALL_HINT) from exc
    if result.returncode != 0:
        raise StageError("tools", f"`{' '.join(command)}` exited {result.returncode}: {result.stderr.strip()[-300:]}",
                         hint=INSTALL_HINT)
    text = result.stdout.strip()
    if tool.name == "kubectl":
        try:
            text = json.loads(result.stdout)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError, TypeError):
            pass
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise StageError("tools", f"cannot read the version of {tool.path} from {text[:100]!r}", hint=INSTALL_HINT)
    return ToolVersion(text, tuple(int(part) for part in match.groups() if part is not None))


def helm_binary(environ: Optional[Mapping[str, str]] = None, tools_bin: Path = TOOLS_BIN) -> Path:
    """A helm recent enough to template the charts, or a StageError that says how to get one."""
    found = find_tool("helm", environ, tools_bin)
    if found is None:
        raise StageError("tools", "no helm found (in .tools/bin or on PATH)", hint=INSTALL_HINT)
    version = tool_version(found)
    if version.numbers[:2] < MINIMUM_HELM:
        raise StageError("tools", f"helm {version.text} at {found.path} is older than "
                         f"{'.'.join(map(str, MINIMUM_HELM))}", hint=INSTALL_HINT)
    return found.path
