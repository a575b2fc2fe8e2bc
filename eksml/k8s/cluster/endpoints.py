"""Where a user reaches the platform's UIs: the ALB host names of `access`, and `kubectl
port-forward` to the same Services for a quick look without a load balancer (make port-forward-*).

A port-forward needs a reachable cluster; without one it says so and fails (exit 1) instead of
leaving kubectl to print a connection error.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Callable, Optional

from eksml.components import uis
from eksml.config.components import ui_installed
from eksml.config.models import Environment
from eksml.errors import StageError
from eksml.k8s.model.components.access import UI_BACKENDS, Backend
from eksml.kube_tools import find_tool



@dataclass(frozen=True)
class Endpoint:
    target: str
    url: Optional[str]  # through the shared ALB; None when not exposed
    service: str  # namespace/service:port, for port-forward

    def as_dict(self) -> dict:
        return {"target": self.target, "url": self.url, "service": self.service}


def endpoints(env: Environment) -> list[Endpoint]:
    access = env.access
    exposed = set(access.expose) if access else set()
    scheme = "https" if access is not None and access.certificate_arn else "http"
    result = []
    for target, backend in UI_BACKENDS.items():
        if not ui_installed(env, target):
            continue
        url = f"{scheme}://{target}.{access.domain}" if target in exposed else None
        result.append(Endpoint(target, url, f"{backend.namespace}/{backend.service}:{backend.port}"))
    for name in (access.models if access else []):
        result.append(Endpoint(f"model {name}", f"{scheme}://{name}.{access.domain}/v1/models", f"kserve/{name}-predictor:80"))
    return result


def port_forward_command(kubectl: str, backend: Backend, local_port: int, context: Optional[str]) -> list[str]:
    command = [kubectl, *(["--context", context] if context else []), "port-forward", "-n", backend.namespace,
               f"svc/{backend.service}", f"{local_port}:{backend.port}"]
    return command


def require_cluster(kubectl: str, context: Optional[str]) -> None:
    """Exit 1 with the reason when no cluster answers (no kubeconfig, no context, unreachable)."""
    probe = [kubectl, *(["--context", context] if context else []), "get", "--raw", "/readyz", "--request-timeout=5s"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StageError("port-forward", f"no cluster reachable: {exc}") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["kubectl could not reach a cluster"])[-1]
        where = f"context '{context}'" if context else "the current kubeconfig context"
        raise StageError("port-forward", f"no cluster reachable through {where}: {reason}",
                         hint="deploy the environment and point kubectl at it (aws eks update-kubeconfig), "
                              "or pass CONTEXT=<kubeconfig context>")


def port_forward(target: str, context: Optional[str], local_port: Optional[int] = None,
                 announce: Callable[[str], None] = print) -> int:
    backend = UI_BACKENDS[target]
    kubectl = find_tool("kubectl")
    if kubectl is None:
        raise StageError("port-forward", "kubectl not found", hint="run `make install` (puts kubectl in .tools/bin)")
    require_cluster(str(kubectl.path), context)
    port = local_port or uis()[target][1].local_port
    announce(f"{target}: http://127.0.0.1:{port} -> {backend.namespace}/{backend.service}:{backend.port} (Ctrl-C stops)")
    command = port_forward_command(str(kubectl.path), backend, port, context)
    return subprocess.run(command).returncode
