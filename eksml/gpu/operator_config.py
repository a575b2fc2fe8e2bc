"""The GPU operator's two per-node configurations, one entry per pool, keyed by the node label the
AWS layer puts on that pool (`eksml.gpu.sharing`).

- device plugin: one time-slicing config per time-slicing pool, plus `default` for every other node;
- mig-parted: one `mig-configs` entry per MIG pool, plus `all-disabled` for every other MIG-capable GPU.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from eksml.config.models import Environment, PoolKind
from eksml.gpu.sharing import GPU_RESOURCE, cluster_mig_strategy, device_plugin_config_name, mig_config_name

DEFAULT_DEVICE_PLUGIN_CONFIG = "default"
MIG_DISABLED_CONFIG = "all-disabled"


def device_plugin_configs(env: Environment) -> dict[str, dict[str, Any]]:
    strategy = cluster_mig_strategy(env)
    configs: dict[str, dict[str, Any]] = {
        DEFAULT_DEVICE_PLUGIN_CONFIG: {"version": "v1", "flags": {"migStrategy": strategy}},
    }
    for name, pool in env.node_pools.items():
        if pool.kind is not PoolKind.gpu_time_slicing:
            continue
        configs[device_plugin_config_name(name)] = {
            "version": "v1",
            "flags": {"migStrategy": strategy},
            "sharing": {
                "timeSlicing": {
                    "renameByDefault": False,
                    # A pod asking for 2 replicas would get 2 slices of one GPU, not 2 GPUs: refuse it.
                    "failRequestsGreaterThanOne": True,
                    "resources": [{"name": GPU_RESOURCE, "replicas": pool.time_slicing.replicas}],
                }
            },
        }
    return configs


def mig_parted_config(env: Environment) -> dict[str, Any]:
    configs: dict[str, Any] = {MIG_DISABLED_CONFIG: [{"devices": "all", "mig-enabled": False}]}
    for name, pool in env.node_pools.items():
        if pool.kind is not PoolKind.gpu_mig:
            continue
        counts = Counter(pool.mig.layout)
        configs[mig_config_name(name)] = [
            {"devices": "all", "mig-enabled": True, "mig-devices": dict(sorted(counts.items()))}
        ]
    return {"version": "v1", "mig-configs": configs}
