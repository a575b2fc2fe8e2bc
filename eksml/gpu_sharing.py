"""Node labels that tell the NVIDIA stack how to share a pool's GPUs.

The AWS layer puts these labels on the node groups; the Kubernetes layer names its
device-plugin and MIG configurations with the same functions, so both sides always agree.
"""

from __future__ import annotations

import hashlib

from eksml.config.models import NodePool, PoolKind

# The GPU operator's device plugin picks its per-node config from this label (time-slicing).
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
# mig-manager applies the mig-parted config named by this label to every GPU of the node.
MIG_CONFIG_LABEL = "nvidia.com/mig.config"

_MAX_LABEL_VALUE = 63


def device_plugin_config_name(pool_name: str) -> str:
    """Key of the pool's entry in the device-plugin config map (time-slicing pools)."""
    return _label_value(pool_name)


def mig_config_name(pool_name: str) -> str:
    """Name of the pool's mig-parted configuration (MIG pools)."""
    return _label_value(f"eksml-{pool_name}")


def sharing_labels(pool_name: str, pool: NodePool) -> dict[str, str]:
    """The one label a GPU pool needs for its sharing mode; none for CPU pools."""
    if pool.kind is PoolKind.gpu_time_slicing:
        return {DEVICE_PLUGIN_CONFIG_LABEL: device_plugin_config_name(pool_name)}
    if pool.kind is PoolKind.gpu_mig:
        return {MIG_CONFIG_LABEL: mig_config_name(pool_name)}
    return {}


def _label_value(name: str) -> str:
    # Label values stop at 63 characters; a long name keeps a hash so two pools never collide.
    if len(name) <= _MAX_LABEL_VALUE:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_LABEL_VALUE - 9].rstrip('-._')}-{digest}"
