"""Every pod the platform will run, read from the rendered manifests: the pod templates of workload
controllers, and the GPU operator's operands, which the operator creates at run time from its
ClusterPolicy (so they appear in no manifest, but eksml configures their tolerations there).

Each becomes a Workload with its node selector, required node affinity, tolerations and requests,
for the scheduling check to place against the pools.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator, Optional

from eksml.charts.kube_yaml import ManifestObject
from eksml.charts.post_render import POD_SPEC_PATHS
from eksml.k8s.model.records import Toleration, Workload
from eksml.k8s.model.replicas import replica_counts
from eksml.k8s.checks.scheduling import _affinity_terms

# Kinds whose pods are JobSet replicated jobs: Kubeflow Trainer's runtimes, and JobSet itself.
REPLICATED_JOBS_PATHS = {
    "ClusterTrainingRuntime": ("spec", "template", "spec", "replicatedJobs"),
    "TrainingRuntime": ("spec", "template", "spec", "replicatedJobs"),
    "JobSet": ("spec", "replicatedJobs"),
}
# Kinds whose pods are Argo steps (a pod per container or script template while a workflow runs).
WORKFLOW_SPEC_PATHS = {
    "WorkflowTemplate": ("spec",),
    "ClusterWorkflowTemplate": ("spec",),
    "Workflow": ("spec",),
    "CronWorkflow": ("spec", "workflowSpec"),
}
_STEP_POD_FIELDS = ("securityContext", "nodeSelector", "tolerations", "affinity", "automountServiceAccountToken")
# DaemonSets every GPU node needs: without them a GPU node advertises nothing or is not observed (the
# EFA device plugin runs on EFA pools only).
_MUST_COVER = re.compile(r"node-exporter|node-feature-discovery-worker|nfd-worker|(?<!efa-k8s-)device-plugin|dcgm-exporter")
# ClusterPolicy operand -> the node label the operator sets on GPU nodes to deploy it, and its DaemonSet
OPERANDS = {
    "driver": ("driver", "nvidia-driver-daemonset"),
    "toolkit": ("container-toolkit", "nvidia-container-toolkit-daemonset"),
    "devicePlugin": ("device-plugin", "nvidia-device-plugin-daemonset"),
    "dcgmExporter": ("dcgm-exporter", "nvidia-dcgm-exporter"),
    "gfd": ("gpu-feature-discovery", "gpu-feature-discovery"),
    "migManager": ("mig-manager", "nvidia-mig-manager"),
    "validator": ("operator-validator", "nvidia-operator-validator"),
}
OPERAND_LABEL_PREFIX = "nvidia.com/gpu.deploy."

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "m": 1e-3}


def quantity(value: Any) -> float:
    """A Kubernetes quantity as a number (CPU in cores, memory in bytes); 0 when unreadable."""
    text = str(value).strip()
    found = re.fullmatch(r"([0-9.eE+-]+)(Ki|Mi|Gi|Ti|k|M|G|T|m)?", text)
    if not found:
        return 0.0
    try:
        return float(found.group(1)) * _UNITS.get(found.group(2) or "", 1)
    except ValueError:
        return 0.0


def _dig(body: dict[str, Any], path: tuple[str, ...]) -> Optional[dict[str, Any]]:
    node: Any = body
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def pod_spec_of(body: dict[str, Any], kind: str) -> Optional[dict[str, Any]]:
    """The pod spec of a workload kind (Deployment, Job, ...), or None."""
    path = POD_SPEC_PATHS.get(kind)
    return _dig(body, path) if path else None


def replicated_job_templates(body: dict[str, Any], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(job name, field path, pod template) of each replicated job of a JobSet-shaped object."""
    path = REPLICATED_JOBS_PATHS.get(kind)
    node: Any = body
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    for index, job in enumerate(node if path and isinstance(node, list) else []):
        template = _dig(job, ("template", "spec", "template")) if isinstance(job, dict) else None
        if template is not None and isinstance(template.get("spec"), dict):
            yield str(job.get("name", index)), f"{'.'.join(path)}[{index}].template.spec.template", template


def workflow_step_pods(body: dict[str, Any], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(template name, field path, pod spec) of each step pod of an Argo workflow-shaped object: the
    template's own pod fields, else the workflow's, around its one main container."""
    path = WORKFLOW_SPEC_PATHS.get(kind)
    spec = _dig(body, path) if path else None
    for index, template in enumerate((spec or {}).get("templates") or []):
        if not isinstance(template, dict):
            continue
        for key in ("container", "script"):
            container = template.get(key)
            if isinstance(container, dict):
                pod = {field: template.get(field, spec.get(field)) for field in _STEP_POD_FIELDS  # type: ignore[union-attr]
                       if template.get(field, spec.get(field)) is not None}  # type: ignore[union-attr]
                yield (str(template.get("name", index)), f"{'.'.join(path or ())}.templates[{index}].{key}",
                       {**pod, "containers": [{"name": "main", **container}]})


def pod_requests(spec: dict[str, Any]) -> dict[str, float]:
    """What the scheduler reserves: the sum over containers and sidecars (init containers that keep
    running: restartPolicy Always), or the largest other init container (with the sidecars started
    before it) if bigger. For extended resources (GPUs) requests equal limits, so a limit alone counts too."""
    def of(container: dict[str, Any]) -> dict[str, float]:
        resources = container.get("resources") or {}
        merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        return {name: quantity(q) for name, q in merged.items()
                if name in ("cpu", "memory") or name.startswith("nvidia.com/")}

    total: dict[str, float] = {}
    sidecars: dict[str, float] = {}  # of the init containers so far that keep running
    peak: dict[str, float] = {}  # the most an init container needs beside the sidecars started before it
    for container in (c for c in spec.get("initContainers") or [] if isinstance(c, dict)):
        for name, amount in of(container).items():
            if container.get("restartPolicy") == "Always":
                sidecars[name] = sidecars.get(name, 0.0) + amount
            else:
                peak[name] = max(peak.get(name, 0.0), amount + sidecars.get(name, 0.0))
    for container in spec.get("containers") or []:
        for name, amount in of(container).items():
            total[name] = total.get(name, 0.0) + amount
    for name in {*total, *sidecars, *peak}:
        total[name] = max(total.get(name, 0.0) + sidecars.get(name, 0.0), peak.get(name, 0.0))
    return total


def workload_of_spec(release: str, file: str, label: str, path: str, kind: str, spec: dict[str, Any],
                     must_cover: bool = False, owner: Optional[dict[str, Any]] = None) -> Workload:
    requests = pod_requests(spec)
    replicas, max_replicas = replica_counts(spec, owner)
    gpus = {name: str(int(q)) for name, q in requests.items() if name.startswith("nvidia.com/")}
    return Workload(
        name=f"{release}: {label}",
        component=release,
        source=file,
        path=path,
        node_selector=tuple(sorted((str(k), str(v)) for k, v in (spec.get("nodeSelector") or {}).items())),
        affinity_terms=_affinity_terms(spec.get("affinity")),
        tolerations=tuple(Toleration.from_manifest(t) for t in spec.get("tolerations") or [] if isinstance(t, dict)),
        resources=tuple(sorted(gpus.items())),
        kind=kind,
        cpu=requests.get("cpu", 0.0),
        memory_gib=requests.get("memory", 0.0) / 2**30,
        must_cover_gpu_pools=must_cover,
        replicas=replicas,
        max_replicas=max_replicas,
    )


def workloads_of_object(release: str, file: str, obj: ManifestObject) -> Iterator[Workload]:
    path = POD_SPEC_PATHS.get(obj.kind)
    if path is not None:
        spec = _dig(obj.body, path)
        if spec is not None:
            must_cover = obj.kind == "DaemonSet" and bool(_MUST_COVER.search(obj.name))
            yield workload_of_spec(release, file, str(obj), f"{obj}.{'.'.join(path)}", obj.kind, spec, must_cover,
                                   owner=obj.body.get("spec") if isinstance(obj.body.get("spec"), dict) else None)
    elif obj.kind in REPLICATED_JOBS_PATHS:
        for job, template_path, template in replicated_job_templates(obj.body, obj.kind):
            workload = workload_of_spec(release, file, f"{obj} {job}", f"{obj}.{template_path}.spec", obj.kind,
                                        template["spec"])
            # A runtime is a template: its pods exist only while a TrainJob runs on it.
            yield replace(workload, replicas=0) if obj.kind.endswith("TrainingRuntime") else workload
    elif obj.kind in WORKFLOW_SPEC_PATHS:  # a step's pod exists only while a workflow runs it
        for step, step_path, pod in workflow_step_pods(obj.body, obj.kind):
            yield replace(workload_of_spec(release, file, f"{obj} step {step}", f"{obj}.{step_path}", obj.kind, pod),
                          replicas=0)
    elif obj.kind == "ClusterPolicy" and obj.body.get("apiVersion", "").startswith("nvidia.com/"):
        yield from operand_workloads(release, file, obj)
    elif obj.kind == "InferenceService":  # KServe creates its pods from the predictor (and transformer)
        spec = obj.body.get("spec") or {}
        for part in ("predictor", "transformer", "explainer"):
            pod = spec.get(part)
            if isinstance(pod, dict):
                containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
                if isinstance(pod.get("model"), dict):
                    containers.append(pod["model"])
                yield workload_of_spec(release, file, f"{obj} {part}", f"{obj}.spec.{part}", "InferenceService",
                                       {**pod, "containers": containers})


def operand_workloads(release: str, file: str, policy: ManifestObject) -> Iterator[Workload]:
    """The operator's DaemonSets as it will create them: ClusterPolicy's shared tolerations and node
    selector, each operand deployed where the operator labels a node for it."""
    spec = policy.body.get("spec") or {}
    shared = spec.get("daemonsets") or {}
    for operand, (label, daemonset) in OPERANDS.items():
        settings = spec.get(operand) or {}
        if settings.get("enabled") is False:
            continue
        pod = {
            "nodeSelector": {**(shared.get("nodeSelector") or {}), f"{OPERAND_LABEL_PREFIX}{label}": "true"},
            "tolerations": shared.get("tolerations") or [],
            "affinity": shared.get("affinity"),
            "containers": [{"resources": settings.get("resources") or {}}],
        }
        yield workload_of_spec(release, file, f"DaemonSet {daemonset} (operand of {policy})",
                               f"{policy}.spec.{operand}", "DaemonSet", pod,
                               must_cover=operand in ("devicePlugin", "dcgmExporter"))
