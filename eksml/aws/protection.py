"""Refuse plans that would replace or destroy stateful resources in protected environments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# Resource types whose loss loses data or the running platform, and why.
PROTECTED_RESOURCE_TYPES: dict[str, str] = {
    "aws_db_instance": "the MLflow database: runs, metrics and model registry",
    "aws_s3_bucket": "artifacts, datasets or logs stored in the bucket",
    "aws_eks_cluster": "the cluster and every workload running on it",
    "aws_efs_file_system": "shared volumes of the workloads",
    "aws_kms_key": "the key that encrypts stored data; without it the data is unreadable",
}


class ResourceChange(Protocol):
    address: str
    type: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class ProtectedChange:
    stack: str
    address: str
    verb: str  # "replace" or "destroy"
    reason: str

    def __str__(self) -> str:
        return f"{self.stack}: {self.address} would be {self.verb}d — it holds {self.reason}"


def protected_changes(stack: str, changes: Iterable[ResourceChange]) -> list[ProtectedChange]:
    found = []
    for change in changes:
        reason = PROTECTED_RESOURCE_TYPES.get(change.type)
        if reason is None or "delete" not in change.actions:
            continue
        verb = "replace" if "create" in change.actions else "destroy"
        found.append(ProtectedChange(stack, change.address, verb, reason))
    return found
