"""The securityContext eksml gives the pods it writes itself (InferenceServices, Jobs) so they pass
Pod Security `restricted` and checkov: a non-root user, no privilege escalation, every capability
dropped, the runtime's default seccomp profile, and a read-only root file system with emptyDirs
where the image writes (its caches and /tmp)."""

from __future__ import annotations

from typing import Any

NON_ROOT_UID = 1000  # the vLLM and Hugging Face images work as any uid once HOME is writable


def restricted_pod_context(uid: int = NON_ROOT_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def writable_dirs(dirs: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, volumeMounts): an emptyDir per {name: mount path}, for a read-only root file system."""
    volumes = [{"name": name, "emptyDir": {}} for name in dirs]
    mounts = [{"name": name, "mountPath": path} for name, path in dirs.items()]
    return volumes, mounts
