"""Static scheduling check: every rendered workload that asks for a GPU must fit at least one pool.

"Fit" is what the scheduler will decide later, decided now from rendered files alone: the pool's
node labels satisfy the workload's nodeSelector and required node affinity, the workload tolerates
every NoSchedule/NoExecute taint of the pool, and the pool advertises the GPU resource asked for
(`nvidia.com/gpu` on time-slicing and single-strategy MIG pools, `nvidia.com/mig-<profile>` only on
a mixed-strategy MIG pool whose layout has that profile), in that quantity.

Workloads are found without knowing each chart: any values mapping with a `resources` block (and
its sibling nodeSelector / tolerations / affinity) is a pod template, skipped under `enabled: false`;
in owned objects, any mapping with a `containers` list is a pod spec.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

from eksml.components.gpu_operator import GPU_OPERATOR
from eksml.errors import ConfigError, Issue
from eksml.k8s.model.manifests import object_path, values_file
from eksml.k8s.model.records import Manifest, NodeTaint, Placement, PoolTarget, Toleration, Workload
from eksml.k8s.model.platform import KubernetesLayer
from eksml.k8s.model.replicas import replica_counts

_BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def _affinity_terms(affinity: Any) -> tuple:
    if not isinstance(affinity, dict):
        return ()
    required = (affinity.get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = []
    for term in required.get("nodeSelectorTerms") or []:
        exprs = tuple(
            (e["key"], e["operator"], tuple(str(v) for v in e.get("values") or ()))
            for e in term.get("matchExpressions") or []
        )
        terms.append(exprs)
    return tuple(terms)


def _quantities(resources: Any) -> dict[str, str]:
    if not isinstance(resources, dict):
        return {}
    merged: dict[str, str] = {}
    for section in ("requests", "limits"):
        for name, qty in (resources.get(section) or {}).items():
            merged[name] = str(qty)  # limits win: for extended resources they must equal requests
    return merged


def _workload(component: str, source: str, path: str, label: str, node: dict[str, Any],
              resources: dict[str, str], owner: Optional[dict[str, Any]] = None) -> Workload:
    replicas, max_replicas = replica_counts(node, owner)
    return Workload(
        name=f"{component}: {label}",
        component=component,
        source=source,
        path=path,
        node_selector=tuple(sorted((str(k), str(v)) for k, v in (node.get("nodeSelector") or {}).items())),
        affinity_terms=_affinity_terms(node.get("affinity")),
        tolerations=tuple(Toleration.from_manifest(t) for t in node.get("tolerations") or [] if isinstance(t, dict)),
        resources=tuple(sorted(resources.items())),
        replicas=replicas,
        max_replicas=max_replicas,
    )


def workloads_in_values(component: str, values: dict[str, Any]) -> list[Workload]:
    found: list[Workload] = []

    def visit(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            if node.get("enabled") is False:
                return
            resources = _quantities(node.get("resources"))
            if resources:
                dotted = ".".join(path) or "(top level)"
                found.append(_workload(component, values_file(component), dotted, dotted, node, resources))
            for key, value in node.items():
                if key != "resources":
                    visit(value, path + [str(key)])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, path[:-1] + [f"{path[-1] if path else ''}[{index}]"])

    visit(values, [])
    return found


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    if isinstance(spec.get("model"), dict):  # a KServe predictor: its model is the serving container
        containers.append(spec["model"])
    return containers


def _pod_specs(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list) or isinstance(node.get("model"), dict):
            yield path, node
            return
        for key, value in node.items():
            yield from _pod_specs(value, f"{path}.{key}" if path else key)


def workloads_in_manifest(component: str, manifest: Manifest) -> list[Workload]:
    meta = manifest.get("metadata", {})
    label = f"{manifest.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}".replace(" /", " ")
    workloads = []
    for path, spec in _pod_specs(manifest.get("spec"), "spec"):
        totals: dict[str, float] = {}
        for container in _containers(spec):
            for name, qty in _quantities(container.get("resources")).items():
                if name.startswith("nvidia.com/"):
                    totals[name] = totals.get(name, 0) + float(qty)
        resources = {name: str(int(total)) for name, total in totals.items()}
        workloads.append(_workload(component, object_path(component, manifest), path, label, spec, resources,
                                   owner=manifest.get("spec") if isinstance(manifest.get("spec"), dict) else None))
    return workloads


def platform_workloads(platform: KubernetesLayer) -> list[Workload]:
    workloads: list[Workload] = []
    for component in platform.components:
        workloads += workloads_in_values(component.name, component.values)
        for manifest in (*component.prerequisites, *component.objects):
            workloads += workloads_in_manifest(component.name, manifest)
    return workloads


def _matches_expression(labels: dict[str, str], key: str, operator: str, values: tuple[str, ...]) -> bool:
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and values:
        try:
            actual, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return actual > bound if operator == "Gt" else actual < bound
    return False


def rejection_reasons(workload: Workload, pool: PoolTarget) -> list[str]:
    """Why `pool` cannot run `workload`; empty when it can."""
    reasons: list[str] = []
    labels = pool.label_map
    for key, value in workload.node_selector:
        if labels.get(key) != value:
            has = f"has {key}={labels[key]}" if key in labels else f"has no label {key}"
            reasons.append(f"nodeSelector {key}={value} does not match (the pool {has})")
    if workload.affinity_terms and not any(
        all(_matches_expression(labels, *expr) for expr in term) for term in workload.affinity_terms
    ):
        reasons.append("required node affinity matches none of the pool's labels")
    for taint in pool.taints:
        if taint.effect in _BLOCKING_EFFECTS and not any(t.tolerates(taint) for t in workload.tolerations):
            reasons.append(f"taint {taint} is not tolerated")
    offered = pool.resource_map
    per_container = dict(pool.max_per_container)
    for resource, quantity in sorted(workload.gpu_requests.items()):
        if quantity <= 0:
            continue
        if resource not in offered:
            what = ", ".join(f"{name} x{count}" for name, count in sorted(offered.items())) or "no GPU resources"
            reasons.append(f"asks for {resource} but the pool offers {what} ({pool.sharing})")
        elif quantity > offered[resource]:
            reasons.append(f"asks for {quantity} {resource} but a node of the pool has {offered[resource]}")
        elif resource in per_container and quantity > per_container[resource]:
            reasons.append(
                f"asks for {quantity} {resource} but {pool.sharing} gives a container at most "
                f"{per_container[resource]} (failRequestsGreaterThanOne)"
            )
    if pool.node_cpu and workload.cpu > pool.node_cpu:
        reasons.append(f"requests {workload.cpu:g} vCPU but the pool's largest node has {pool.node_cpu:g}")
    if pool.node_memory_gib and workload.memory_gib > pool.node_memory_gib:
        reasons.append(f"requests {workload.memory_gib:.1f} GiB of memory but the pool's largest node has "
                       f"{pool.node_memory_gib:g} GiB")
    return reasons


def place(workload: Workload, pools: Sequence[PoolTarget]) -> Placement:
    accepted, rejected = [], []
    for pool in pools:
        reasons = rejection_reasons(workload, pool)
        if reasons:
            rejected.append((pool.name, tuple(reasons)))
        else:
            accepted.append(pool.name)
    return Placement(workload, tuple(accepted), tuple(rejected))


def operand_gaps(platform: KubernetesLayer) -> list[tuple[PoolTarget, NodeTaint]]:
    """GPU pools whose taints the GPU operator's DaemonSets do not tolerate: those nodes would
    never advertise a GPU."""
    try:
        values = platform.component(GPU_OPERATOR.name).values
    except KeyError:
        return []
    tolerations = [Toleration.from_manifest(t) for t in (values.get("daemonsets") or {}).get("tolerations") or []]
    return [
        (pool, taint)
        for pool in platform.pools
        if pool.gpu_resources
        for taint in pool.taints
        if taint.effect in _BLOCKING_EFFECTS and not any(t.tolerates(taint) for t in tolerations)
    ]


def check_scheduling(platform: KubernetesLayer) -> list[Placement]:
    """Placements of every workload found; ConfigError naming each GPU workload that fits nowhere."""
    placements = [place(w, platform.pools) for w in platform_workloads(platform)]
    issues = []
    for placement in placements:
        workload = placement.workload
        if not workload.asks_for_gpu:
            continue
        asked = ", ".join(f"{name}: {qty}" for name, qty in sorted(workload.gpu_requests.items()))
        if not workload.node_selector and not workload.affinity_terms:
            issues.append(Issue(workload.source, workload.path, (
                f"workload {workload.name} asks for a GPU ({asked}) but has no nodeSelector or required node "
                "affinity, so it could land on any GPU pool whatever its sharing mode; pin it with eksml.io/pool"
            )))
        elif not placement.pools:
            considered = "".join(f"\n      {pool} rejected: {'; '.join(reasons)}" for pool, reasons in placement.rejections)
            issues.append(Issue(workload.source, workload.path,
                                f"workload {workload.name} asks for {asked} and fits no pool; pools considered:{considered}"))
    for pool, taint in operand_gaps(platform):
        issues.append(Issue("gpu-operator.values.yaml", "daemonsets.tolerations", (
            f"the GPU operator's DaemonSets do not tolerate taint {taint} of pool {pool.name}: "
            "its nodes would advertise no GPUs"
        )))
    if issues:
        raise ConfigError(issues)
    return placements


def pool_workloads(placements: Sequence[Placement], pool: str) -> list[Workload]:
    return [p.workload for p in placements if pool in p.pools and _placed_on_purpose(p.workload)]


def _placed_on_purpose(workload: Workload) -> bool:
    return workload.asks_for_gpu or bool(workload.node_selector or workload.affinity_terms or workload.tolerations)


def unplaced(placements: Sequence[Placement]) -> list[Placement]:
    return [p for p in placements if not p.pools and _placed_on_purpose(p.workload)]


def describe_tolerations(workload: Workload) -> str:
    parts = []
    for t in workload.tolerations:
        if t.operator == "Exists":
            parts.append(f"{t.key or '*'}:{t.effect or '*'} (any value)")
        else:
            parts.append(f"{t.key}={t.value}:{t.effect or '*'}")
    return ", ".join(parts) or "none"


def describe_resources(workload: Workload, only_gpu: bool = True) -> Optional[str]:
    items = [(n, q) for n, q in workload.resources if not only_gpu or n.startswith("nvidia.com/")]
    return ", ".join(f"{n}: {q}" for n, q in items) or None
