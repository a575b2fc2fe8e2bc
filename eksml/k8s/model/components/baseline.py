"""Cluster baseline eksml owns outright (no chart): namespaces with Pod Security Standards labels,
team GPU quotas, PriorityClasses and NetworkPolicies. Applied before every release.

Pod Security: every namespace *enforces* `restricted` (and warns/audits it), except the namespaces
of the one exception list in eksml/k8s/model/pod_security_levels.py, each with its level and reason. The
render's own PSS evaluation (pod_security_check.py) refuses a pod that breaks its namespace's level.

NetworkPolicies: default-deny ingress and egress in every namespace eksml creates, then the flows
the components describe (eksml/k8s/model/network_policies.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional

from eksml.config.models import PoolKind
from eksml.errors import ConfigError, Issue
from eksml.gpu.sharing import GPU_RESOURCE, cluster_mig_strategy, pool_gpu
from eksml.components.baseline import CLUSTER_BASELINE
from eksml.k8s.model.components.base import DescribedComponent
from eksml.contract.names import KUBERNETES_NAMESPACES
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.mesh_membership import mesh_metadata
from eksml.k8s.model.network_policies import TEAM_LABEL, platform_policies
from eksml.k8s.model.pod_security_levels import enforced_level

PLATFORM_LABEL = "eksml.io/platform"
UNOWNED_NAMESPACES = KUBERNETES_NAMESPACES

TRAINING_PRIORITY = "training"
# name -> (value, preemption policy, description)
PRIORITY_CLASSES: dict[str, tuple[int, str, str]] = {
    "production-inference": (1_000_000, "PreemptLowerPriority", "Serving production traffic; preempts training and batch."),
    TRAINING_PRIORITY: (100_000, "PreemptLowerPriority", "Model training; preempts batch work."),
    "batch": (10_000, "Never", "Batch and pipeline work; waits for capacity instead of preempting."),
}


def namespace(name: str, level: str, k8s_version: str, labels: dict[str, str],
              annotations: Optional[dict[str, str]] = None) -> Manifest:
    version = f"v{k8s_version}"
    pss = {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
    }
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": metadata(name, labels={**labels, **pss}, annotations=annotations)}


def team_gpu_quota(ctx: RenderContext, team: str, gpus: int) -> Manifest:
    """`gpu_quota` whole GPUs; on mixed MIG pools, the MIG slices those GPUs hold, so MIG is no loophole."""
    hard: dict[str, str] = {f"requests.{GPU_RESOURCE}": str(gpus)}
    if cluster_mig_strategy(ctx.env) == "mixed":
        per_gpu: dict[str, int] = defaultdict(int)
        for pool in ctx.env.node_pools.values():
            if pool.kind is not PoolKind.gpu_mig:
                continue
            gpu = pool_gpu(pool, ctx.catalog)
            for profile_name in set(pool.mig.layout):
                profile = ctx.catalog.mig_profile(gpu.id, profile_name) if gpu else None
                if profile is not None:
                    per_gpu[profile.resource_name] = max(per_gpu[profile.resource_name], pool.mig.layout.count(profile_name))
        for resource, count in sorted(per_gpu.items()):
            hard[f"requests.{resource}"] = str(gpus * count)
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata("gpu-quota", team),
        "spec": {"hard": hard},
    }


def priority_class(name: str, value: int, preemption: str, description: str) -> Manifest:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": metadata(name),
        "value": value,
        "globalDefault": False,
        "preemptionPolicy": preemption,
        "description": description,
    }


class ClusterBaseline(DescribedComponent):
    spec = CLUSTER_BASELINE

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        env = ctx.env
        platform = [ns for ns in dict.fromkeys(ctx.platform_namespaces) if ns and ns not in UNOWNED_NAMESPACES]
        clashes = [team for team in env.teams if team in platform or team in UNOWNED_NAMESPACES]
        if clashes:
            raise ConfigError([
                Issue(f"environments/{env.name}.yaml", f"teams.{team}",
                      f"'{team}' is a platform namespace; team names must differ from: "
                      f"{', '.join(sorted(platform + list(UNOWNED_NAMESPACES)))}")
                for team in clashes
            ])
        version = env.cluster.kubernetes_version
        manifests: list[Manifest] = []
        for ns, own_labels in [*((ns, {PLATFORM_LABEL: "true"}) for ns in platform),
                               *((team, {TEAM_LABEL: team}) for team in env.teams)]:
            mesh_labels, mesh_annotations = mesh_metadata(ctx, ns)
            manifests.append(namespace(ns, enforced_level(ns), version, {**mesh_labels, **own_labels}, mesh_annotations))
        manifests += [priority_class(name, *spec) for name, spec in PRIORITY_CLASSES.items()]
        manifests += [team_gpu_quota(ctx, team, config.gpu_quota) for team, config in env.teams.items()]
        manifests += platform_policies(ctx, platform)
        return manifests
