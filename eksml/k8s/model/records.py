"""Value types shared by render, the scheduling check and install.

Helm values and Kubernetes manifests stay plain dicts (they are serialised as-is); everything that
describes them — which chart, which order, which pool — is a small frozen dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from eksml.charts.post_render import Patch

Manifest = dict[str, Any]


@dataclass(frozen=True)
class ChartRef:
    """Where a chart comes from: a classic repository (repo URL + chart name) or an OCI reference."""

    name: str
    repo: Optional[str] = None  # None: `name` is an oci:// reference

    @property
    def ref(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name if self.repo is None else f"{self.repo} {self.name}"


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    name: str
    namespace: Optional[str] = None

    @classmethod
    def of(cls, manifest: Manifest) -> "ObjectRef":
        meta = manifest.get("metadata", {})
        return cls(manifest["apiVersion"], manifest["kind"], meta["name"], meta.get("namespace"))

    @property
    def api_group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class RenderedComponent:
    """One component after rendering: the Helm release (if any) and the objects eksml applies itself."""

    name: str
    namespace: str
    chart: Optional[ChartRef]
    version: Optional[str]
    values: dict[str, Any]
    depends_on: tuple[str, ...]
    prerequisites: tuple[Manifest, ...]  # applied before the release (things the release reads)
    objects: tuple[Manifest, ...]  # applied after the release (CRs that need its CRDs)
    provides_api_groups: tuple[str, ...] = ()
    timeout: str = "10m"
    patches: tuple[Patch, ...] = ()  # changes to the rendered release no value can make (post-render)

    @property
    def is_release(self) -> bool:
        return self.chart is not None


@dataclass(frozen=True)
class Toleration:
    key: Optional[str]
    operator: Literal["Equal", "Exists"]
    value: Optional[str]
    effect: Optional[str]

    @classmethod
    def from_manifest(cls, raw: dict[str, Any]) -> "Toleration":
        return cls(raw.get("key"), raw.get("operator", "Equal"), raw.get("value"), raw.get("effect"))

    def tolerates(self, taint: "NodeTaint") -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and (self.value or "") == (taint.value or "")


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: Optional[str]
    effect: str

    def as_manifest(self) -> dict[str, str]:
        taint = {"key": self.key, "effect": self.effect}
        if self.value is not None:
            taint["value"] = self.value
        return taint

    def __str__(self) -> str:
        return f"{self.key}{'=' + self.value if self.value is not None else ''}:{self.effect}"


@dataclass(frozen=True)
class PoolTarget:
    """Nodes a pod can land on: a fixed node group or a Karpenter NodePool, as the scheduler sees them."""

    name: str
    source: Literal["node group", "karpenter"]
    labels: tuple[tuple[str, str], ...]
    taints: tuple[NodeTaint, ...]
    # Extended GPU resources one node advertises, and how many of each.
    gpu_resources: tuple[tuple[str, int], ...]
    gpu: Optional[str]
    sharing: str  # human description: "time-slicing x4", "MIG mixed [3g.40gb, ...]", "whole GPUs", "none"
    max_per_container: tuple[tuple[str, int], ...] = ()  # e.g. time-slicing rejects more than 1 replica
    node_cpu: float = 0.0  # vCPUs of the pool's largest node (0: unknown)
    node_memory_gib: float = 0.0  # memory of the pool's largest node (0: unknown)

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def resource_map(self) -> dict[str, int]:
        return dict(self.gpu_resources)


@dataclass(frozen=True)
class Workload:
    """A pod template found in rendered values or owned objects, reduced to what scheduling needs."""

    name: str  # "<component>: <path>", e.g. "opea-chatqna: vllm"
    component: str
    source: str  # rendered file it comes from, e.g. "opea-chatqna.values.yaml"
    path: str  # where in that file, e.g. "vllm"
    node_selector: tuple[tuple[str, str], ...]
    # Required node affinity: OR of terms, each an AND of (key, operator, values).
    affinity_terms: tuple[tuple[tuple[str, str, tuple[str, ...]], ...], ...]
    tolerations: tuple[Toleration, ...]
    resources: tuple[tuple[str, str], ...]  # max of requests and limits per resource name
    kind: str = ""  # Deployment, DaemonSet, ... ("" for a pod template found in values)
    cpu: float = 0.0  # requested vCPUs of one pod
    memory_gib: float = 0.0  # requested memory of one pod
    must_cover_gpu_pools: bool = False  # a DaemonSet every GPU node needs (device plugin, exporters, NFD)
    replicas: int = 1  # copies the controller keeps (a DaemonSet: one per matching node)
    max_replicas: Optional[int] = None  # the autoscaling ceiling, where one is declared

    @property
    def gpu_requests(self) -> dict[str, int]:
        return {name: int(float(qty)) for name, qty in self.resources if name.startswith("nvidia.com/")}

    @property
    def asks_for_gpu(self) -> bool:
        return any(qty > 0 for qty in self.gpu_requests.values())


@dataclass(frozen=True)
class Placement:
    workload: Workload
    pools: tuple[str, ...]  # pools that accept it
    rejections: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())  # pool -> reasons


ChangeStatus = Literal["added", "changed", "removed"]


def change_status(before: object, after: object) -> ChangeStatus:
    """How a file or object moved between the last render and now (None: absent on that side)."""
    return "added" if before is None else "removed" if after is None else "changed"


def count_changes(statuses: list[str], noun: str = "") -> str:
    """`Kubernetes layer: 2 added, 1 changed` — the head line of a plan of the Kubernetes layer."""
    counts = {status: statuses.count(status) for status in ("added", "changed", "removed")}
    return "Kubernetes layer: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + (f" {noun}" if noun else "")
