"""The whole rendered platform checked at once: every object (schemas, CRDs, order) and every pod
(placed on the pools), all problems reported together as bad input (exit 2), before any file is
written or anything applied.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Optional, Sequence

from eksml.catalog.addon_apis import addon_releases
from eksml.config.models import Environment, Tier
from eksml.contract.names import POOL_LABEL
from eksml.errors import ConfigError, Issue
from eksml.k8s.templating.chart_render import ChartRenders
from eksml.charts.kube_yaml import ManifestObject
from eksml.k8s.model.manifests import manifest_file, object_path
from eksml.k8s.model.records import Placement, PoolTarget, RenderedComponent, Workload
from eksml.k8s.checks.mesh_injection import admitted_object, injected_containers, meshed_namespaces
from eksml.k8s.checks.object_checks import Placed, check_objects
from eksml.k8s.model.platform import KubernetesLayer, dependencies_of
from eksml.k8s.checks.replica_check import single_replica_issues
from eksml.k8s.checks.pod_security_check import PssSummary, pod_security_issues, pss_summary
from eksml.k8s.checks.secret_check import secret_data_issues
from eksml.k8s.checks.network_check import reachability_issues
from eksml.k8s.checks.generic_targets import generic_target_issues
from eksml.k8s.checks.image_check import image_issues
from eksml.k8s.checks.rendered_pods import OPERAND_LABEL_PREFIX, OPERANDS, workloads_of_object
from eksml.k8s.checks.scheduling import place

# Labels every node has from the kubelet, and those NFD and the GPU operator add to a GPU node.
NODE_LABELS = {"kubernetes.io/os": "linux"}
GPU_NODE_LABELS = {
    "nvidia.com/gpu.present": "true",
    "feature.node.kubernetes.io/pci-10de.present": "true",
    **{f"{OPERAND_LABEL_PREFIX}{label}": "true" for label, _ in OPERANDS.values()},
}


def runtime_pools(pools: Sequence[PoolTarget]) -> tuple[PoolTarget, ...]:
    """Pools with the labels their nodes carry once running, which chart selectors rely on."""
    result = []
    for pool in pools:
        labels = {**NODE_LABELS, **(GPU_NODE_LABELS if pool.gpu_resources else {}), **pool.label_map}
        result.append(dataclasses.replace(pool, labels=tuple(sorted(labels.items()))))
    return tuple(result)


def placed_objects(platform: KubernetesLayer, charts: ChartRenders) -> list[Placed]:
    """Every object in install order: prerequisites, then the release's manifest, then owned objects."""
    return placed_components(platform.components, charts)


def placed_components(components: Sequence[RenderedComponent], charts: ChartRenders) -> list[Placed]:
    by_release = {r.name: r for r in charts.releases}
    placed: list[Placed] = []
    for component in components:
        # The cluster's add-ons are there before any release.
        before = frozenset(dependencies_of(component.name, components)) | addon_releases()
        for manifest in component.prerequisites:
            placed.append(Placed(component.name, ManifestObject("eksml", manifest), before,
                                 object_path(component.name, manifest)))
        if component.name in by_release:
            placed += [Placed(component.name, obj, before, manifest_file(component.name))
                       for obj in by_release[component.name].objects]
        for manifest in component.objects:
            placed.append(Placed(component.name, ManifestObject("eksml", manifest), before,
                                 object_path(component.name, manifest)))
    return placed


def platform_pods(objects: Sequence[Placed], namespaces: Optional[Mapping[str, str]] = None) -> list[Workload]:
    """Every pod to place, with the containers the mesh's injector adds where it adds them."""
    meshed, injected = meshed_namespaces(objects), injected_containers(objects)
    admitted = [admitted_object(p, p.obj.namespace or (namespaces or {}).get(p.release, ""), meshed, injected)
                for p in objects]
    return [w for p in admitted for w in workloads_of_object(p.release, p.file, p.obj)]


def scheduling_issues(placements: Sequence[Placement], pools: Sequence[PoolTarget]) -> list[Issue]:
    gpu_pools = {pool.name for pool in pools if pool.gpu_resources}
    issues = []
    for placement in placements:
        workload = placement.workload
        reasons = dict(placement.rejections)
        if workload.asks_for_gpu and not workload.node_selector and not workload.affinity_terms:
            issues.append(Issue(workload.source, workload.path, (
                f"{workload.name} asks for a GPU but has no nodeSelector or required node affinity, so it could "
                "land on any GPU pool whatever its sharing mode; pin it with eksml.io/pool")))
        elif not placement.pools:
            considered = "".join(f"\n      {pool}: {'; '.join(why)}" for pool, why in placement.rejections)
            asked = dict(workload.node_selector).get(POOL_LABEL)
            unknown = (f" ({POOL_LABEL}={asked} names no pool; pools: {', '.join(p.name for p in pools)})"
                       if asked is not None and asked not in {p.name for p in pools} else "")
            issues.append(Issue(workload.source, workload.path,
                                f"{workload.name} fits no pool{unknown}; pool by pool:{considered}"))
        elif workload.must_cover_gpu_pools:
            missed = sorted(gpu_pools & set(reasons))
            if missed:
                why = "".join(f"\n      {pool}: {'; '.join(reasons[pool])}" for pool in missed)
                issues.append(Issue(workload.source, workload.path, (
                    f"{workload.name} must run on every GPU node but cannot run on pool(s) "
                    f"{', '.join(missed)}:{why}")))
    return issues


def check_rendered_platform(env: Environment, platform: KubernetesLayer, charts: ChartRenders) -> list[Placement]:
    """Placements of every pod; ConfigError with every problem of every object and pod."""
    objects = placed_objects(platform, charts)
    namespaces = {r.name: r.component.namespace for r in charts.releases}
    issues = check_objects(objects, env.cluster.kubernetes_version, namespaces)
    issues += pod_security_issues(objects, namespaces, env.cluster.kubernetes_version)
    issues += secret_data_issues(objects, namespaces)
    issues += generic_target_issues(objects)
    issues += reachability_issues(objects, namespaces, list(env.teams), [c.name for c in platform.components],
                                  env.network.vpc_cidr)
    if env.resolved_tier is Tier.prod:
        issues += single_replica_issues(objects, namespaces)
        issues += image_issues(objects)
    pools = runtime_pools(platform.pools)
    placements = [place(w, pools) for w in platform_pods(objects, namespaces)]
    issues += scheduling_issues(placements, pools)
    if issues:
        raise ConfigError(list(dict.fromkeys(issues)))
    return placements


def platform_pss_summary(components: Sequence[RenderedComponent], charts: ChartRenders,
                         kube_version: str) -> PssSummary:
    """Pods clean at restricted and namespaces enforcing it, over a checked render."""
    namespaces = {r.name: r.component.namespace for r in charts.releases}
    return pss_summary(placed_components(components, charts), namespaces, kube_version)
