"""What the OPEA ChatQnA charts (1.4.0) hard-code with no value to change it, changed after Helm renders
them (eksml/charts/post_render.py), so that every ChatQnA pod passes Pod Security `restricted`:

- the init containers `wait-for-db` (retriever, data-prep) and `model-downloader` (TEI, the LLM
  servers) get the restricted container context, resources and a pull policy. The downloader's
  DAC_OVERRIDE and FOWNER go: it writes only into its own emptyDir (or a volume fsGroup makes its
  group's), and chmod on files it created needs neither.
- the UI image keeps its app, which `vite preview` writes into at start (its bundled config), in a
  root-owned folder. An init container of the same image copies the app into an emptyDir mounted
  over that folder, so the UI runs as non-root on a read-only root file system.
- no pod mounts a service-account token (the charts have no pod-level value); the gateway and Redis
  get the probes the charts offer no value for.
"""

from __future__ import annotations

from typing import Any

from eksml.charts.post_render import ALL_PODS, Patch, container_patch, pod_patch
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER

GATEWAY_CONTAINER = OPEA_CHATQNA.name  # the chatqna chart names its gateway container after the release
UI_CONTAINER = "chatqna-ui"  # the ui subchart's alias, which names its container
UI_WORKLOAD = f"{OPEA_CHATQNA.name}-{UI_CONTAINER}"
GATEWAY_PORT = 8888
UI_APP_DIR = "/home/user/svelte"  # where the UI image (GenAIExamples ChatQnA/ui/docker/Dockerfile) keeps the app
UI_APP_VOLUME = "app"
UI_APP_SIZE = "2Gi"  # the app with its node_modules
_COPY_TO = "/copy-to"
HARD_CODED_INIT = {
    "wait-for-db": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
    "model-downloader": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
}


def _tcp_probes(port: int | str, period: int) -> dict[str, Any]:
    probe = {"tcpSocket": {"port": port}, "periodSeconds": period, "failureThreshold": 6}
    return {"livenessProbe": probe, "readinessProbe": {**probe, "failureThreshold": 3}}


def _ui_copy_container() -> dict[str, Any]:
    return {
        "name": "copy-app",
        "command": ["cp", "-R", f"{UI_APP_DIR}/.", _COPY_TO],
        "imagePullPolicy": "Always",
        "securityContext": dict(RESTRICTED_CONTAINER),
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "volumeMounts": [{"name": UI_APP_VOLUME, "mountPath": _COPY_TO}],
    }


def ui_patches() -> list[Patch]:
    env = [{"name": "HOME", "value": "/tmp"}, {"name": "npm_config_cache", "value": "/tmp/.npm"},
           {"name": "npm_config_update_notifier", "value": "false"}]
    return [
        pod_patch(UI_WORKLOAD, append={
            "volumes": [{"name": UI_APP_VOLUME, "emptyDir": {"sizeLimit": UI_APP_SIZE}}],
            "initContainers": [_ui_copy_container()],
        }),
        container_patch(UI_CONTAINER, append={
            "volumeMounts": [{"name": UI_APP_VOLUME, "mountPath": UI_APP_DIR}], "env": env}),
    ]


def chatqna_patches() -> list[Patch]:
    return [
        *(container_patch(name, securityContext=dict(RESTRICTED_CONTAINER), resources=resources,
                          imagePullPolicy="Always") for name, resources in HARD_CODED_INIT.items()),
        pod_patch(ALL_PODS, automountServiceAccountToken=False),
        container_patch(GATEWAY_CONTAINER, **_tcp_probes(GATEWAY_PORT, 10)),
        container_patch("redis-vector-db", **_tcp_probes("redis-service", 10)),
        *ui_patches(),
    ]
