"""Whole-file rules for `training`: each runtime's pool trains on whole GPUs, the GPUs asked per node
exist, and the runs have somewhere to checkpoint and to be tracked."""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.config.models import Environment, NodePool, PoolKind
from eksml.config.rule_base import Finding, names, needs
from eksml.contract.names import DATASETS_BUCKET


def node_gpus(pool: NodePool, catalog: Catalog) -> int:
    """The GPUs every node of the pool has: the fewest among its instance types."""
    counts = [it.gpu_count for name in pool.instance_types if (it := catalog.instance_type(name)) is not None]
    return min(counts, default=0)


def _trainable(env: Environment) -> str:
    return names(name for name, pool in env.node_pools.items() if pool.kind is not PoolKind.gpu_mig and pool.kind.is_gpu)


def _pool_findings(env: Environment, catalog: Catalog, path: str, name: str) -> Iterator[Finding]:
    pool = env.node_pools.get(name)
    if pool is None:
        hint = (" (a Karpenter pool adds nodes to one as its overflow_for)" if name in env.karpenter.node_pools else "")
        yield path, f"'{name}' is not a node pool; training runs on a GPU node pool: {_trainable(env)}{hint}"
        return
    if not pool.kind.is_gpu:
        yield path, f"node pool '{name}' has no GPUs (kind cpu); pin training to a GPU pool: {_trainable(env)}"
    elif pool.kind is PoolKind.gpu_mig:
        yield path, (f"node pool '{name}' splits its GPUs into MIG instances, which NCCL cannot join into one job; "
                     f"pin training to a pool of whole or time-sliced GPUs: {_trainable(env)}")
    gpus = env.training.gpus_per_node
    if gpus is None or not pool.kind.is_gpu:
        return
    have = node_gpus(pool, catalog)
    if have and gpus > have:
        yield "training.gpus_per_node", (f"{gpus} GPUs per node, but a node of pool '{name}' "
                                         f"({', '.join(pool.instance_types)}) has {have}")
    elif pool.kind is PoolKind.gpu_time_slicing and gpus > 1:
        yield "training.gpus_per_node", (f"pool '{name}' time-slices its GPUs, and a container gets at most one "
                                         "shared GPU there (failRequestsGreaterThanOne): set gpus_per_node: 1, "
                                         "or pin multi-GPU training to a pool without sharing")


@needs("training", "node_pools", "karpenter")
def training_pools_have_gpus(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    if env.training is None:
        return
    for index, name in enumerate(env.training.pools):
        yield from _pool_findings(env, catalog, f"training.pools[{index}]", name)


@needs("training", "storage", "addons")
def training_has_checkpoints_and_tracking(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.training is None:
        return
    if not env.storage.efs:
        yield "training", ("training checkpoints are kept on EFS, shared by a job's nodes and kept across restarts: "
                           "set storage.efs: true")
    if not env.addons.mlflow.enabled:
        yield "training", "training runs are tracked in MLflow: enable addons.mlflow"


@needs("training", "storage", "addons")
def pipeline_has_datasets(env: Environment, _: Catalog) -> Iterator[Finding]:
    """The training pipeline (Argo Workflows, wherever training is declared) ingests from the datasets bucket."""
    if env.training is None or not env.addons.argo_workflows.enabled or DATASETS_BUCKET in env.storage.buckets:
        return
    yield "storage.buckets", (f"the training pipeline reads raw data from the '{DATASETS_BUCKET}' bucket: add "
                              f"'{DATASETS_BUCKET}' to storage.buckets, or disable addons.argo_workflows")


RULES = (training_pools_have_gpus, training_has_checkpoints_and_tracking, pipeline_has_datasets)
