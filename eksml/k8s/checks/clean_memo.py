"""Objects already found valid against a schema in this process, by digest.

Schema validation is most of a render's CPU, and a process that renders more than once (`plan
--all`, several environments, the tests) meets the same objects again: dev, staging and prod share
most of theirs. Only clean results are kept, so every problem is still found and described anew.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any, Optional

_CLEAN: set[bytes] = set()
_LIMIT = 200_000  # digests (32 bytes each); past it the set starts over


def validation_key(schema_id: str, body: Any) -> Optional[bytes]:
    """`schema_id` must change whenever the schema does (a version, or the schema's own text).

    The object is pickled, not dumped as JSON: a key 1 and a key "1" stay apart, mixed key types
    need no ordering. None (nothing remembered, the object is validated) when it cannot be."""
    try:
        data = pickle.dumps(body, protocol=5)
    except Exception:  # noqa: BLE001 - an odd value only means no shortcut
        return None
    return hashlib.sha256(schema_id.encode() + b"\0" + data).digest()


def known_clean(key: Optional[bytes]) -> bool:
    return key is not None and key in _CLEAN


def remember_clean(key: Optional[bytes]) -> None:
    if key is None:
        return
    if len(_CLEAN) >= _LIMIT:
        _CLEAN.clear()
    _CLEAN.add(key)
