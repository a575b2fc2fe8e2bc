"""What Argo CD says about an environment's Applications on a live cluster (read-only): in gitops
mode `eksml status --context` shows each one's sync and health instead of asking Helm."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from eksml.config import Environment
from eksml.contract.names import ENVIRONMENT_TAG
from eksml.errors import StageError, first_line
from eksml.k8s.model.custom_objects import ListObjects, custom_object_lister
from eksml.k8s.model.components.argocd import ARGOCD_NAMESPACE

# Application is argoproj.io/v1alpha1 in every Argo CD release the argo-cd chart installs.
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"



@dataclass(frozen=True)
class ApplicationStatus:
    name: str
    sync: str  # Argo CD's: Synced, OutOfSync, Unknown
    health: str  # Healthy, Progressing, Degraded, Suspended, Missing, Unknown
    revision: str = ""

    @property
    def healthy(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"

    def as_dict(self) -> dict:
        return {**asdict(self), "healthy": self.healthy}


def application_status(env: Environment, kubeconfig: Optional[Path], context: Optional[str], *,
                       list_applications: Optional[ListObjects] = None) -> list[ApplicationStatus]:
    """Every Application labelled with the environment, by name; a cluster without one is an error."""
    lister = list_applications or custom_object_lister(GROUP, VERSION, PLURAL, kubeconfig, context)
    try:
        items = lister(ARGOCD_NAMESPACE, f"{ENVIRONMENT_TAG}={env.name}")
    except Exception as exc:  # the client raises ApiException, urllib3 and config errors alike
        raise StageError("status", f"cannot list Argo CD Applications: {first_line(exc)}",
                         hint="is Argo CD installed and the kubeconfig context right?") from exc
    if not items:
        raise StageError("status", f"no Argo CD Application of '{env.name}' in namespace {ARGOCD_NAMESPACE}",
                         hint=f"commit the folder `eksml render {env.name} --gitops OUT` writes and apply its root app")
    return sorted((_status_of(item) for item in items), key=lambda status: status.name)


def _status_of(item: dict[str, Any]) -> ApplicationStatus:
    status = item.get("status") or {}
    sync = status.get("sync") or {}
    return ApplicationStatus(
        name=(item.get("metadata") or {}).get("name", "?"),
        sync=sync.get("status") or "Unknown",
        health=(status.get("health") or {}).get("status") or "Unknown",
        revision=str(sync.get("revision") or ""),
    )

