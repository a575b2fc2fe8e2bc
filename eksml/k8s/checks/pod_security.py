"""eksml's own evaluation of the Pod Security Standards (baseline and restricted) over a pod spec,
control by control as the Kubernetes documentation defines them, for the cluster's version.

This does not read labels: it looks at every field the standards restrict (pod and every container,
init container and ephemeral container) and says which control a container breaks, so a render can
refuse a pod before the admission controller would. Controls gated by a Kubernetes version (the
sysctls the kubelet made safe later, SELinux's container_engine_t) follow the version asked for.

Source: https://kubernetes.io/docs/concepts/security/pod-security-standards/ (Baseline and
Restricted tables) and https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/ (safe sysctls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from eksml.k8s.model.pod_security_levels import BASELINE, PRIVILEGED, RESTRICTED

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
RESTRICTED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
})
# sysctl -> the Kubernetes minor version from which the standards count it as safe
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced": 0, "net.ipv4.ip_local_port_range": 0, "net.ipv4.tcp_syncookies": 0,
    "net.ipv4.ping_group_range": 0, "net.ipv4.ip_unprivileged_port_start": 0,
    "net.ipv4.ip_local_reserved_ports": 27, "net.ipv4.tcp_keepalive_time": 29, "net.ipv4.tcp_fin_timeout": 29,
    "net.ipv4.tcp_keepalive_intvl": 29, "net.ipv4.tcp_keepalive_probes": 29,
    "net.ipv4.tcp_rmem": 32, "net.ipv4.tcp_wmem": 32,
}
# SELinux type -> minor version from which baseline allows it ("" is unset)
SELINUX_TYPES = {"": 0, "container_t": 0, "container_init_t": 0, "container_kvm_t": 0, "container_engine_t": 31}
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_VOLUME_KEYS_NOT_TYPES = frozenset({"name"})


@dataclass(frozen=True)
class Violation:
    """One control one container (or the pod, container "") breaks."""

    container: str
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f"container {self.container}" if self.container else "pod"
        return f"{where}: {self.rule} ({self.detail})"


def _minor(kube_version: str) -> int:
    parts = kube_version.lstrip("v").split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 99


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, container, its securityContext) for every container of every list."""
    for key in CONTAINER_LISTS:
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                yield str(container.get("name", "?")), container, container.get("securityContext") or {}


def baseline_violations(spec: dict[str, Any], kube_version: str, annotations: dict[str, Any] | None = None) -> list[Violation]:
    minor = _minor(kube_version)
    pod_sc = spec.get("securityContext") or {}
    found: list[Violation] = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(Violation("", "host namespaces", f"{field}: true"))
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        found.append(Violation("", "HostProcess", "securityContext.windowsOptions.hostProcess: true"))
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict) and "hostPath" in volume:
            path = (volume.get("hostPath") or {}).get("path", "?")
            found.append(Violation("", "hostPath volumes", f"volume {volume.get('name')} mounts hostPath {path}"))
    for sysctl in pod_sc.get("sysctls") or []:
        name = str((sysctl or {}).get("name", ""))
        if SAFE_SYSCTLS.get(name, 999) > minor:
            found.append(Violation("", "sysctls", f"{name} is not a safe sysctl at Kubernetes {kube_version}"))
    found += _profile_violations("", pod_sc, minor)
    for key, value in (annotations or {}).items():
        if str(key).startswith(_APPARMOR_ANNOTATION) and not (value == "runtime/default" or str(value).startswith("localhost/")):
            found.append(Violation(str(key)[len(_APPARMOR_ANNOTATION):], "AppArmor", f"annotation {value}"))
    for name, container, sc in _containers(spec):
        if sc.get("privileged"):
            found.append(Violation(name, "privileged", "securityContext.privileged: true"))
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(Violation(name, "HostProcess", "securityContext.windowsOptions.hostProcess: true"))
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            found.append(Violation(name, "capabilities", f"adds {', '.join(sorted(map(str, added)))}"))
        ports = [p.get("hostPort") for p in container.get("ports") or [] if isinstance(p, dict) and p.get("hostPort")]
        if ports:
            found.append(Violation(name, "host ports", f"hostPort {', '.join(map(str, ports))}"))
        if sc.get("procMount") not in (None, "Default"):
            found.append(Violation(name, "/proc mount type", f"procMount: {sc.get('procMount')}"))
        found += _profile_violations(name, sc, minor)
    return found


def _profile_violations(container: str, sc: dict[str, Any], minor: int) -> list[Violation]:
    """Seccomp, AppArmor and SELinux settings baseline forbids (pod or container securityContext)."""
    found = []
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append(Violation(container, "seccomp", "seccompProfile.type: Unconfined"))
    if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        found.append(Violation(container, "AppArmor", "appArmorProfile.type: Unconfined"))
    selinux = sc.get("seLinuxOptions") or {}
    if SELINUX_TYPES.get(str(selinux.get("type", "")), 999) > minor:
        found.append(Violation(container, "SELinux", f"seLinuxOptions.type: {selinux.get('type')}"))
    for field in ("user", "role"):
        if selinux.get(field):
            found.append(Violation(container, "SELinux", f"seLinuxOptions.{field} is set"))
    return found


def restricted_violations(spec: dict[str, Any], kube_version: str, annotations: dict[str, Any] | None = None) -> list[Violation]:
    """Baseline's controls and restricted's own: volume types, privilege escalation, non-root,
    seccomp, and capabilities (drop ALL, add at most NET_BIND_SERVICE)."""
    found = baseline_violations(spec, kube_version, annotations)
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            kinds = set(volume) - _VOLUME_KEYS_NOT_TYPES - RESTRICTED_VOLUME_TYPES - {"hostPath"}
            if kinds:
                found.append(Violation("", "volume types", f"volume {volume.get('name')} is {', '.join(sorted(kinds))}"))
    if pod_sc.get("runAsUser") == 0:
        found.append(Violation("", "running as non-root user", "securityContext.runAsUser: 0"))
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    for name, _container, sc in _containers(spec):
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(Violation(name, "privilege escalation", "allowPrivilegeEscalation must be false"))
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            found.append(Violation(name, "running as non-root", "runAsNonRoot must be true (pod or container)"))
        if sc.get("runAsUser") == 0:
            found.append(Violation(name, "running as non-root user", "securityContext.runAsUser: 0"))
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(Violation(name, "seccomp", "seccompProfile.type must be RuntimeDefault or Localhost"))
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(Violation(name, "capabilities", "must drop ALL"))
        extra = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            found.append(Violation(name, "capabilities", f"may add only NET_BIND_SERVICE, adds {', '.join(sorted(map(str, extra)))}"))
    return found


def violations(spec: dict[str, Any], level: str, kube_version: str, annotations: dict[str, Any] | None = None) -> list[Violation]:
    """What `spec` breaks at `level` (privileged: nothing)."""
    if level == RESTRICTED:
        return restricted_violations(spec, kube_version, annotations)
    if level == BASELINE:
        return baseline_violations(spec, kube_version, annotations)
    return []
