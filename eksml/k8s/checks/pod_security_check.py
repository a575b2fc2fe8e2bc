"""The render's Pod Security check: every pod template of every release and owned object evaluated
by eksml's own Pod Security Standards evaluator against the level its namespace enforces (read
from the rendered Namespace's `enforce` label and `enforce-version`), refused as bad input with
the pod, the container and the control it breaks.

In a meshed namespace, each pod is evaluated with the proxy and validator Linkerd's injector adds
(mesh_injection.py): admission sees them, so the check does too.

Namespaces no rendered object creates (kube-system, default) are privileged unless the exception
list says otherwise, which is what a cluster without an admission configuration does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from eksml.errors import Issue
from eksml.k8s.checks.mesh_injection import INJECTED_NAMES, as_admitted, injected_containers, meshed_namespaces
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.checks.pod_security import PRIVILEGED, RESTRICTED, Violation, violations
from eksml.k8s.model.pod_security_levels import EXCEPTION_BY_NAMESPACE
from eksml.k8s.checks.rendered_pods import (
    POD_SPEC_PATHS, REPLICATED_JOBS_PATHS, WORKFLOW_SPEC_PATHS, replicated_job_templates, workflow_step_pods,
)

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
_ISVC_PARTS = ("predictor", "transformer", "explainer")


def namespace_levels(objects: Sequence[Placed], kube_version: str) -> dict[str, tuple[str, str]]:
    """namespace -> (enforced level, the version it is evaluated at), from the rendered Namespaces."""
    levels = {}
    for placed in objects:
        if placed.obj.kind == "Namespace":
            labels = (placed.obj.body.get("metadata") or {}).get("labels") or {}
            version = str(labels.get(ENFORCE_VERSION_LABEL, "latest"))
            levels[placed.obj.name] = (str(labels.get(ENFORCE_LABEL, PRIVILEGED)),
                                       kube_version if version == "latest" else version)
    return levels


def pod_specs(obj_body: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(field path, pod spec, pod annotations) of each pod an object makes."""
    path = POD_SPEC_PATHS.get(kind)
    if path is not None:
        node: Any = obj_body
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            template = obj_body
            for key in path[:-1]:
                template = template.get(key) if isinstance(template, dict) else {}
            annotations = ((template or {}).get("metadata") or {}).get("annotations") or {}
            yield ".".join(path), node, annotations
    elif kind in REPLICATED_JOBS_PATHS:  # a training runtime's pods run where its TrainJobs are
        for _, path, template in replicated_job_templates(obj_body, kind):
            yield f"{path}.spec", template["spec"], (template.get("metadata") or {}).get("annotations") or {}
    elif kind in WORKFLOW_SPEC_PATHS:  # Argo runs each step as a pod of the workflow's namespace
        for _, path, pod in workflow_step_pods(obj_body, kind):
            yield path, pod, {}
    elif kind == "InferenceService":  # KServe builds the pod from the component spec and its model container
        spec = obj_body.get("spec") or {}
        for part in _ISVC_PARTS:
            pod = spec.get(part)
            if isinstance(pod, dict):
                containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
                if isinstance(pod.get("model"), dict):
                    containers.append({"name": "kserve-container", **pod["model"]})
                yield f"spec.{part}", {**pod, "containers": containers}, {}


def admitted_pods(objects: Sequence[Placed], release_namespaces: Mapping[str, str]
                  ) -> Iterator[tuple[Placed, str, str, dict[str, Any], dict[str, Any]]]:
    """(object, namespace, field path, pod spec as admitted, pod annotations) of every pod."""
    meshed, injected = meshed_namespaces(objects), injected_containers(objects)
    for placed in objects:
        namespace = placed.obj.namespace or release_namespaces.get(placed.release, "default")
        for path, spec, annotations in pod_specs(placed.obj.body, placed.obj.kind):
            yield placed, namespace, path, as_admitted(spec, annotations, namespace, meshed, injected), annotations


def pod_security_issues(objects: Sequence[Placed], release_namespaces: Mapping[str, str],
                        kube_version: str) -> list[Issue]:
    levels = namespace_levels(objects, kube_version)
    issues = []
    for placed, namespace, path, spec, annotations in admitted_pods(objects, release_namespaces):
        exception = EXCEPTION_BY_NAMESPACE.get(namespace)
        level, version = levels.get(namespace, (exception.level if exception else PRIVILEGED, kube_version))
        found = violations(spec, level, version, annotations)
        if found:
            issues.append(placed.issue(path, _message(str(placed.obj), namespace, level, version, found)))
    return issues


def _message(pod: str, namespace: str, level: str, version: str, found: list[Violation]) -> str:
    listed = "; ".join(str(v) for v in dict.fromkeys(found))
    added = [name for name in INJECTED_NAMES if f"container {name}:" in listed]
    origin = (f" ({' and '.join(added)}: added by Linkerd's injector, as the linkerd-control-plane release's "
              "proxy values make them)") if added else ""
    return (f"{pod} breaks Pod Security '{level}' that namespace {namespace} enforces (Kubernetes {version}): "
            f"{listed}{origin}")


@dataclass(frozen=True)
class PssSummary:
    """The measure a reviewer asks for: pods clean at restricted, namespaces enforcing it."""

    restricted_pods: int
    pods: int
    restricted_namespaces: int
    namespaces: int

    def __str__(self) -> str:
        return (f"{self.restricted_pods} of {self.pods} pods pass restricted; "
                f"{self.restricted_namespaces} of {self.namespaces} namespaces enforce it")


def pss_summary(objects: Sequence[Placed], release_namespaces: Mapping[str, str], kube_version: str) -> PssSummary:
    levels = namespace_levels(objects, kube_version)
    pods = [(spec, annotations) for *_, spec, annotations in admitted_pods(objects, release_namespaces)]
    clean = sum(not violations(spec, RESTRICTED, kube_version, annotations) for spec, annotations in pods)
    enforcing = sum(level == RESTRICTED for level, _version in levels.values())
    return PssSummary(clean, len(pods), enforcing, len(levels))
