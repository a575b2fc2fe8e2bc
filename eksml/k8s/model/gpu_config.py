"""The GPU operator's per-pool configurations (`eksml.gpu.operator_config`) as the ConfigMaps the
operator's device plugin and mig-manager read."""

from __future__ import annotations

from typing import Any

import yaml

from eksml.config.models import Environment
from eksml.gpu.operator_config import device_plugin_configs, mig_parted_config
from eksml.k8s.model.manifests import metadata

DEVICE_PLUGIN_CONFIGMAP = "eksml-device-plugin-config"
MIG_PARTED_CONFIGMAP = "eksml-mig-parted-config"
MIG_PARTED_KEY = "config.yaml"  # mig-manager reads this key only


def configmaps(env: Environment, namespace: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(DEVICE_PLUGIN_CONFIGMAP, namespace),
            "data": {key: _dump(config) for key, config in device_plugin_configs(env).items()},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(MIG_PARTED_CONFIGMAP, namespace),
            "data": {MIG_PARTED_KEY: _dump(mig_parted_config(env))},
        },
    ]


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
