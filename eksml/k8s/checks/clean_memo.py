"""Objects already found valid against a schema in this process, by digest.

Schema validation is most of a render's CPU, and a process that renders more than once (`plan
--all`, several environments, the tests) meets the same objects again: dev, staging and prod share
most of theirs. Only clean results are kept, so every problem is still found and described anew.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_CLEAN: set[bytes] = set()
_LIMIT = 200_000  # digests (32 bytes each); past it the set starts over


def validation_key(schema_id: str, body: Any) -> bytes:
    """`schema_id` must change whenever the schema does (a version, or a digest of the schema)."""
    text = json.dumps(body, sort_keys=True, default=lambda value: f"<{type(value).__name__}>{value}")
    return hashlib.sha256(f"{schema_id}\0{text}".encode()).digest()


def known_clean(key: bytes) -> bool:
    return key in _CLEAN


def remember_clean(key: bytes) -> None:
    if len(_CLEAN) >= _LIMIT:
        _CLEAN.clear()
    _CLEAN.add(key)
