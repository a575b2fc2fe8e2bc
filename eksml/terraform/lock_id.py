"""The ID of a Terraform state lock, checked before anything runs.

Terraform writes lock IDs as UUIDs (hashicorp/go-uuid: 32 hex digits in the 8-4-4-4-12 form, with no
version bits fixed), and its lock error prints one. Anything else (a flag such as -help, an empty or
huge string) cannot release a lock, and would otherwise start a synth and a `terraform init` first.
"""

from __future__ import annotations

import re

from eksml.errors import ConfigError, Issue

_LOCK_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_SHOWN_AT_MOST = 60


def check_lock_id(lock_id: str) -> str:
    """The ID unchanged, or ConfigError (exit 2) saying what a lock ID looks like."""
    if _LOCK_ID.match(lock_id):
        return lock_id
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in lock_id)
    if len(shown) > _SHOWN_AT_MOST:
        shown = f"{shown[:_SHOWN_AT_MOST]}... ({len(lock_id)} characters)"
    what = "is empty" if not lock_id else f"'{shown}' is not a lock ID"
    raise ConfigError([Issue("LOCK_ID", "", (
        f"{what}: a Terraform lock ID is a UUID such as 2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8 (the lock error "
        "prints it as 'ID: ...'); copy it from there"))])
