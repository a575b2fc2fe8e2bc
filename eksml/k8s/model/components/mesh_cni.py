"""Linkerd's CNI plugin: a DaemonSet that installs the plugin into each node's CNI chain, where it
sets up each meshed pod's traffic redirection as the pod's network is made. Without it, every meshed
pod would carry proxy-init, which needs NET_ADMIN and NET_RAW: refused by Pod Security restricted
(and baseline).

The plugin's chart (linkerd2-cni) is not in the chart mirror, so these objects are eksml's own,
after that chart's manifests (linkerd/linkerd2, charts/linkerd2-cni). Its namespace is privileged:
the installer writes into the node's /opt/cni/bin and /etc/cni/net.d on the host network.
"""

from __future__ import annotations

import json
from typing import Any

from eksml.components.mesh import (
    INJECT_ANNOTATION, LINKERD_CNI, PROXY_ADMIN_PORT, PROXY_INBOUND_PORT, PROXY_UID,
)
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import restricted_container_context
from eksml.k8s.model.manifests import granted_role, metadata
from eksml.k8s.model.records import Manifest

NAME = LINKERD_CNI.name  # the DaemonSet, its account and the plugin binary share it
NAMESPACE = LINKERD_CNI.namespace
# linkerd2's charts/linkerd2-cni/values.yaml pins this plugin image (versioned apart from the proxy).
CNI_PLUGIN_IMAGE = "cr.l5d.io/linkerd/cni-plugin:v1.7.0"
PROXY_OUTBOUND_PORT, PROXY_CONTROL_PORT = 4140, 4190
CNI_BIN_DIR, CNI_NET_DIR = "/opt/cni/bin", "/etc/cni/net.d"
REPAIR_ADMIN_PORT = 9990  # on the node's network: its health and metrics
NOBODY = 65534  # the repair controller only calls the API: any unprivileged uid
_LABELS = {"k8s-app": NAME}


def network_config() -> str:
    """The plugin's entry in the node's CNI chain; the installer fills the __PLACEHOLDERS__ per node."""
    return json.dumps({
        "name": NAME, "type": NAME, "log_level": "info",
        "policy": {"type": "k8s", "k8s_api_root": "https://__KUBERNETES_SERVICE_HOST__:__KUBERNETES_SERVICE_PORT__",
                   "k8s_auth_token": "__SERVICEACCOUNT_TOKEN__"},
        "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"},
        "linkerd": {
            "incoming-proxy-port": PROXY_INBOUND_PORT, "outgoing-proxy-port": PROXY_OUTBOUND_PORT,
            "proxy-uid": PROXY_UID, "ports-to-redirect": [],
            "inbound-ports-to-ignore": [str(PROXY_ADMIN_PORT), str(PROXY_CONTROL_PORT)],
            "simulate": False, "use-wait-flag": False, "iptables-mode": "nft", "ipv6": False,
        },
    }, indent=2)


def _installer() -> dict[str, Any]:
    def from_config(key: str) -> dict[str, Any]:
        return {"valueFrom": {"configMapKeyRef": {"name": f"{NAME}-config", "key": key}}}

    plugin_installed = {"exec": {"command": ["/bin/sh", "-c", f"test -f /host{CNI_BIN_DIR}/{NAME}"]},
                        "periodSeconds": 10}
    return {
        "name": "install-cni",
        "image": CNI_PLUGIN_IMAGE,
        "imagePullPolicy": "Always",
        "env": [{"name": "DEST_CNI_NET_DIR", **from_config("dest_cni_net_dir")},
                {"name": "DEST_CNI_BIN_DIR", **from_config("dest_cni_bin_dir")},
                {"name": "CNI_NETWORK_CONFIG", **from_config("cni_network_config")},
                {"name": "SLEEP", "value": "true"}],
        # Stopped, the installer takes the plugin out of the node's chain again.
        "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", "kill -15 1; sleep 15s"]}}},
        "volumeMounts": [{"name": "cni-bin-dir", "mountPath": f"/host{CNI_BIN_DIR}"},
                         {"name": "cni-net-dir", "mountPath": f"/host{CNI_NET_DIR}"},
                         {"name": "tmp", "mountPath": "/tmp"}],
        # Root owns the node's CNI folders: the installer writes there as their owner, with no capability.
        "securityContext": {**restricted_container_context(), "privileged": False},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        # The chain can call the plugin only while its binary (named as its `type`) is on the node.
        "readinessProbe": plugin_installed, "livenessProbe": {**plugin_installed, "periodSeconds": 60},
    }


def _repair_controller() -> dict[str, Any]:
    """Deletes a meshed pod of its node whose network validator failed (the pod started before the
    plugin was in the node's chain, as on a node Karpenter just made), so that it comes back meshed."""
    def from_pod(field: str) -> dict[str, Any]:
        return {"valueFrom": {"fieldRef": {"fieldPath": field}}}

    alive = {"tcpSocket": {"port": REPAIR_ADMIN_PORT}, "periodSeconds": 10}
    return {
        "name": "repair-controller",
        "image": CNI_PLUGIN_IMAGE,
        "imagePullPolicy": "Always",
        "command": ["/usr/lib/linkerd/linkerd-cni-repair-controller"],
        "args": [f"--admin-addr=0.0.0.0:{REPAIR_ADMIN_PORT}", "--log-format=plain"],
        "env": [{"name": "LINKERD_CNI_REPAIR_CONTROLLER_NODE_NAME", **from_pod("spec.nodeName")},
                {"name": "LINKERD_CNI_REPAIR_CONTROLLER_POD_NAME", **from_pod("metadata.name")}],
        "ports": [{"name": "repair-admin", "containerPort": REPAIR_ADMIN_PORT}],
        "readinessProbe": alive, "livenessProbe": alive,
        "securityContext": {**RESTRICTED_CONTAINER, "runAsUser": NOBODY, "runAsGroup": NOBODY},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
    }


def daemon_set() -> Manifest:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata(NAME, NAMESPACE, _LABELS), "spec": {
        "selector": {"matchLabels": _LABELS},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        "template": {
            "metadata": {"labels": _LABELS, "annotations": {INJECT_ANNOTATION: "disabled"}},
            "spec": {
                "hostNetwork": True,
                "serviceAccountName": NAME,  # its token goes into the plugin's kubeconfig on the node
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"operator": "Exists"}],  # every node, GPU pools included
                "containers": [_installer(), _repair_controller()],
                "volumes": [{"name": "cni-bin-dir", "hostPath": {"path": CNI_BIN_DIR}},
                            {"name": "cni-net-dir", "hostPath": {"path": CNI_NET_DIR}},
                            {"name": "tmp", "emptyDir": {}}],
            },
        },
    }}


def cni_objects() -> list[Manifest]:
    rules = [
        {"apiGroups": [""], "resources": ["pods", "nodes", "namespaces", "services"], "verbs": ["list", "get", "watch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},  # the repair controller's, on its node
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(NAME, NAMESPACE)},
        *granted_role(NAME, None, rules, NAME, NAMESPACE),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(f"{NAME}-config", NAMESPACE), "data": {
            "dest_cni_net_dir": CNI_NET_DIR, "dest_cni_bin_dir": CNI_BIN_DIR, "cni_network_config": network_config(),
        }},
        daemon_set(),
    ]


class LinkerdCni(DescribedComponent):
    spec = LINKERD_CNI

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return cni_objects()
