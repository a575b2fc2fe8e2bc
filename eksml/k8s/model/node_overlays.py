"""NodeOverlays (karpenter.sh/v1alpha1) that tell Karpenter what a shared-GPU node really offers.

Karpenter sizes a launch from the instance type's own resources: 8 `nvidia.com/gpu` for a p4d. A
Karpenter NodePool that carries a fixed pool's sharing label (`overflow_for` a time-slicing or MIG
pool) gets nodes whose device plugin advertises 32 time-slicing replicas, or MIG slices Karpenter
has never heard of. One overlay per instance type of such a pool adds that capacity to Karpenter's
scheduling simulation, so it launches the number of nodes the slices need. The overlays need the
chart's `nodeOverlay` feature gate (settings.featureGates, alpha in Karpenter 1.14).
"""

from __future__ import annotations

from eksml.catalog import Catalog
from eksml.config.models import Environment
from eksml.gpu.sharing import pool_gpu, sharing_resources
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.pools import KARPENTER_NODEPOOL_LABEL, karpenter_gpu_instance_types

NODE_OVERLAY_API = "karpenter.sh/v1alpha1"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
FEATURE_GATE = "nodeOverlay"
# Above a user's own overlays' usual weight: eksml's count of slices is the one that matches the node.
OVERLAY_WEIGHT = 50


def overlay_name(pool: str, instance_type: str) -> str:
    return f"eksml-{pool}-{instance_type.replace('.', '-')}"[:253]


def node_overlays(env: Environment, catalog: Catalog) -> list[Manifest]:
    overlays = []
    for name, kpool in env.karpenter.node_pools.items():
        fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
        if fixed is None or not (fixed.time_slicing or fixed.mig):
            continue
        gpu = pool_gpu(fixed, catalog)
        for type_name in karpenter_gpu_instance_types(kpool, catalog, gpu):
            instance = catalog.instance_type(type_name)
            resources, _, sharing = sharing_resources(env, fixed, catalog, instance.gpu_count)
            overlays.append({
                "apiVersion": NODE_OVERLAY_API,
                "kind": "NodeOverlay",
                "metadata": {"name": overlay_name(name, type_name),
                             "annotations": {"eksml.io/sharing": f"{sharing} (from pool {kpool.overflow_for})"}},
                "spec": {
                    "weight": OVERLAY_WEIGHT,
                    "requirements": [
                        {"key": KARPENTER_NODEPOOL_LABEL, "operator": "In", "values": [name]},
                        {"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": [type_name]},
                    ],
                    "capacity": {resource: str(count) for resource, count in sorted(resources.items())},
                },
            })
    return overlays
