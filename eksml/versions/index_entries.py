"""A chart repository's index entries, read as untrusted data.

A mirror's index.yaml is written by whoever runs the mirror: an entry may be no mapping, lack a
version, hold a version that is no version at all, or carry a kubeVersion constraint eksml cannot
read. Such entries are skipped (and counted) instead of crashing `eksml outdated`, and a constraint
that cannot be read makes the newer chart's compatibility unknown, never compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

_RELEASE = re.compile(r"^v?\d+(\.\d+){0,2}$")


@dataclass(frozen=True)
class Releases:
    newest: Optional[dict[str, Any]]  # the entry of the newest release version
    skipped: int                      # entries that were not a readable release


def newest_release(entries: Any) -> Releases:
    """The entry with the highest plain release version (pre-releases are not offered)."""
    if not isinstance(entries, list):
        return Releases(None, 1 if entries is not None else 0)
    best, best_key, skipped = None, None, 0
    for entry in entries:
        version = entry.get("version") if isinstance(entry, dict) else None
        if not isinstance(version, (str, int, float)) or isinstance(version, bool):
            skipped += 1
            continue
        text = str(version).split("+")[0]
        if "-" in text:
            continue  # a pre-release: readable, just not offered
        if not _RELEASE.match(text):
            skipped += 1
            continue
        key = tuple(int(p) for p in text.lstrip("v").split(".")) + (0,) * (3 - text.count(".") - 1)
        if best_key is None or key > best_key:
            best, best_key = entry, key
    return Releases(best, skipped)


def skipped_note(skipped: int, repository: str) -> str:
    return f"{skipped} malformed entr{'y' if skipped == 1 else 'ies'} in {repository}/index.yaml skipped" if skipped else ""
