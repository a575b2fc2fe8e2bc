"""Karpenter: the controller (IRSA, interruption queue) and one NodePool + EC2NodeClass per
`karpenter.node_pools` entry, applied after the release because they need its CRDs."""

from __future__ import annotations

import re
from typing import Any

from eksml.contract.names import KARPENTER_CAPACITY_TYPE_LABEL
from eksml.config.models import Environment, KarpenterPool
from eksml.contract.names import (
    ENVIRONMENT_TAG,
    KARPENTER_DISCOVERY_TAG,
    POOL_LABEL,
)
from eksml.gpu.sharing import pool_gpu
from eksml.components.karpenter import KARPENTER
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.node_overlays import FEATURE_GATE, node_overlays
from eksml.k8s.model.pools import (
    KARPENTER_NODEPOOL_LABEL,
    karpenter_gpu_instance_types,
    karpenter_pool_labels,
    karpenter_pool_taints,
)

_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
RESERVED_CAPACITY_GATE = "reservedCapacity"


def ami_alias(env: Environment) -> str:
    """Pin the AMI to the release the node groups use; `latest` would let Karpenter drift-replace
    GPU nodes whenever AWS publishes an AMI."""
    release = env.cluster.ami_release_version or ""
    match = re.search(r"-(\d{8})$", release)
    return f"al2023@v{match.group(1)}" if match else "al2023@latest"


def _architectures(kpool: KarpenterPool, ctx: RenderContext) -> list[str]:
    arches: set[str] = set()
    for family in kpool.instance_families:
        for it in ctx.catalog.instance_types_in_family(family):
            names = [it.architecture] if isinstance(it.architecture, str) else list(it.architecture)
            arches.update(_ARCH[a] for a in names if a in _ARCH)
    return sorted(arches) or ["amd64"]


def _has_gpus(kpool: KarpenterPool, ctx: RenderContext) -> bool:
    return bool(karpenter_gpu_instance_types(kpool, ctx.catalog))


def node_pool(name: str, kpool: KarpenterPool, ctx: RenderContext) -> Manifest:
    env = ctx.env
    labels = karpenter_pool_labels(env, name, kpool)
    requirements: list[dict[str, Any]] = [
        # Karpenter launches reserved capacity first, then spot, then on-demand, among those listed.
        {"key": KARPENTER_CAPACITY_TYPE_LABEL, "operator": "In", "values": list(kpool.capacity_types)},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(kpool.instance_families)},
        {"key": "kubernetes.io/arch", "operator": "In", "values": _architectures(kpool, ctx)},
    ]
    fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
    if fixed is not None and fixed.kind.is_gpu:
        gpu = pool_gpu(fixed, ctx.catalog)
        if gpu is not None:
            # Only the GPU model the copied sharing config (time-slicing / MIG layout) was made for.
            requirements += [
                {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": [gpu.ec2_name.lower()]},
                {"key": "karpenter.k8s.aws/instance-gpu-memory", "operator": "In", "values": [str(gpu.ec2_memory_mib)]},
            ]
    limits: dict[str, str] = {}
    if kpool.cpu_limit is not None:
        limits["cpu"] = str(kpool.cpu_limit)
    if kpool.gpu_limit is not None:
        limits["nvidia.com/gpu"] = str(kpool.gpu_limit)
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": {k: v for k, v in labels.items() if k != KARPENTER_NODEPOOL_LABEL}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": name},
                "requirements": requirements,
                "expireAfter": "720h",
            },
        },
        # A GPU node is consolidated only once empty: moving a training or inference pod off an
        # underused GPU node throws away hours of work or a loaded model.
        "disruption": {"consolidationPolicy": "WhenEmpty" if _has_gpus(kpool, ctx) else "WhenEmptyOrUnderutilized",
                       "consolidateAfter": kpool.consolidate_after},
    }
    taints = [t.as_manifest() for t in karpenter_pool_taints(env, kpool)]
    if taints:
        spec["template"]["spec"]["taints"] = taints
    if limits:
        spec["limits"] = limits
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": metadata(name), "spec": spec}


def node_class(name: str, kpool: KarpenterPool, ctx: RenderContext) -> Manifest:
    cluster = ctx.outputs.cluster_name
    disk = "200Gi" if _has_gpus(kpool, ctx) else "50Gi"  # CUDA / vLLM images are tens of GB
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": metadata(name),
        "spec": {
            "role": ctx.outputs.karpenter_node_role_name,
            "amiSelectorTerms": [{"alias": ami_alias(ctx.env)}],
            "subnetSelectorTerms": [{"tags": {KARPENTER_DISCOVERY_TAG: cluster}}],
            "securityGroupSelectorTerms": [{"tags": {KARPENTER_DISCOVERY_TAG: cluster}}],
            "blockDeviceMappings": [{
                "deviceName": "/dev/xvda",
                "ebs": {"volumeSize": disk, "volumeType": "gp3", "encrypted": True, "kmsKeyID": ctx.ebs_key_arn,
                        "deleteOnTermination": True},
            }],
            # Tenant pods get AWS access through IRSA only, never the node role: IMDS stops at the node.
            "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
            "tags": {**ctx.env.tags, ENVIRONMENT_TAG: ctx.env.name, POOL_LABEL: name},
            **reservation_terms(kpool),
        },
    }


def reservation_terms(kpool: KarpenterPool) -> dict[str, Any]:
    """The reservations the NodePool's `reserved` capacity type launches into (ODCRs and Capacity Blocks)."""
    terms = []
    for reservation in kpool.reservations:
        term: dict[str, Any] = {"id": reservation.id} if reservation.id else {"tags": dict(reservation.tags)}
        if reservation.owner_id:
            term["ownerID"] = reservation.owner_id
        terms.append(term)
    return {"capacityReservationSelectorTerms": terms} if terms else {}


class Karpenter(DescribedComponent):
    spec = KARPENTER

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(KARPENTER)
        settings: dict[str, Any] = {
            "clusterName": ctx.outputs.cluster_name,
            "interruptionQueue": ctx.outputs.karpenter_interruption_queue_name,
        }
        if ctx.outputs.cluster_endpoint:
            settings["clusterEndpoint"] = ctx.outputs.cluster_endpoint
        gates = {}
        if node_overlays(ctx.env, ctx.catalog):  # alpha: on only when eksml renders overlays
            gates[FEATURE_GATE] = True
        if any(kpool.reservations for kpool in ctx.env.karpenter.node_pools.values()):
            gates[RESERVED_CAPACITY_GATE] = True  # beta and on by default since 1.6; said where it is used
        if gates:
            settings["featureGates"] = gates
        return {
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "settings": settings,
            "serviceMonitor": {"enabled": ctx.monitoring_enabled},
        }

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        manifests: list[Manifest] = []
        for name, kpool in ctx.env.karpenter.node_pools.items():
            manifests += [node_class(name, kpool, ctx), node_pool(name, kpool, ctx)]
        return manifests + node_overlays(ctx.env, ctx.catalog)
