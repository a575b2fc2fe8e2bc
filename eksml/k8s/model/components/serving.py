"""Models from the environment file's `serving` section, as KServe InferenceServices (eksml-owned).

Each model runs in the KServe namespace under the IRSA service account that may read
s3://<artifacts>/models/, on the pool it names: pinned by the pool label, tolerating the pool's
taints, asking for the resource the pool's sharing mode advertises (a MIG profile, a time-slicing
replica, a whole GPU), with vLLM told how much memory its slice has. KServe's Standard mode has no
traffic splitting of its own, so a canary is a second InferenceService; the shared ALB weights the
two (access.py). A PodMonitor per model lets Prometheus scrape vLLM's metrics.
"""

from __future__ import annotations

from typing import Any, Optional

from eksml.config.gpu_slice import GpuSlice, model_size_gb, model_slice
from eksml.config.models_serving import HF_PREFIX, ServedModel, is_registry_source, registry_reference
from eksml.contract.names import ARTIFACTS_BUCKET, POOL_LABEL
from eksml.errors import ConfigError, Issue
from eksml.gpu.sharing import GPU_RESOURCE, mig_resource_name
from eksml.components.serving import MODEL_SERVING, REGISTRY_EXPORT_PREFIX
from eksml.k8s.model.components.autoscaling import AUTOSCALER_ANNOTATION, predictor_replicas, scaled_object
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.chatqna import llm_tolerations
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata, tolerations_for
from eksml.k8s.model.hardening import restricted_container_context, restricted_pod_context, writable_dirs
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.components.weights import (
    cache_volume, cache_volume_claim, cached_storage_uri, fetch_container, read_estimate,
)
from eksml.k8s.model.pools import karpenter_pool_labels, karpenter_pool_taints

MODEL_LABEL = "eksml.io/model"
# Where the runtimes write under a read-only root file system: HOME (compile and download caches) and /tmp.
WRITABLE_DIRS = {"home": "/home/model", "tmp": "/tmp"}
VERSION_LABEL = "eksml.io/model-version"
TRAFFIC_ANNOTATION = "eksml.io/traffic-percent"
REGISTRY_ANNOTATION = "eksml.io/registry-source"  # the MLflow reference a storageUri was rendered from
WEIGHTS_ANNOTATION = "eksml.io/weights-from"  # where a replica reads its weights: the EFS cache, s3 or the hub
READ_ESTIMATE_ANNOTATION = "eksml.io/weights-read-estimate"  # a cached replica's read time, with its source
STORAGE_INITIALIZER = "kserve/storage-initializer"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
METRICS_PORT = 8080
# ClusterServingRuntimes of the kserve-runtime-configs chart: (runtime, model format, extra args).
RUNTIMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "vllm": ("kserve-vllmserver", "vLLM", ()),
    "huggingface": ("kserve-huggingfaceserver", "huggingface", ("--backend=vllm",)),
}


def storage_uri(ctx: RenderContext, source: str) -> str:
    """KServe's storage initializer reads s3:// through IRSA and hf:// from the Hugging Face Hub; a
    registry model is read where its version is exported in the artifacts bucket, so moving an alias
    in MLflow and rendering again (`eksml promote`) changes what is served."""
    if is_registry_source(source):
        name, _, ref = registry_reference(source)
        return f"s3://{ctx.env.bucket_name(ARTIFACTS_BUCKET)}/{REGISTRY_EXPORT_PREFIX}/{name}/{ref}/"
    return source if source.startswith(("s3://", HF_PREFIX)) else f"{HF_PREFIX}{source}"


def source_annotations(source: str, uri: str, cached: bool, size_gb: float) -> dict[str, str]:
    origin = "huggingface-hub" if uri.startswith(HF_PREFIX) else "s3"
    annotations = {WEIGHTS_ANNOTATION: f"efs-cache (the first replica fetches from {origin})" if cached else origin}
    if cached:
        annotations[READ_ESTIMATE_ANNOTATION] = read_estimate(size_gb)
    if is_registry_source(source):
        annotations[REGISTRY_ANNOTATION] = source
    return annotations


def storage_initializer(ctx: RenderContext) -> str:
    """KServe's storage initializer at the KServe release (its chart's own default is `latest`)."""
    return f"{STORAGE_INITIALIZER}:{ctx.env.addons.kserve.version}"


def resolved_slice(ctx: RenderContext, name: str, model: ServedModel) -> GpuSlice:
    gpu_slice = model_slice(ctx.env, ctx.catalog, model)
    if isinstance(gpu_slice, str):  # validation refuses this first; a direct caller gets the same words
        raise ConfigError([Issue(ctx.env.name, f"serving.models.{name}.pool", gpu_slice)])
    return gpu_slice


def gpu_resource(ctx: RenderContext, gpu_slice: GpuSlice) -> str:
    if gpu_slice.sharing == "mig" and gpu_slice.mig_strategy == "mixed":
        return mig_resource_name(ctx.catalog.gpu(gpu_slice.gpu), gpu_slice.profile, ctx.catalog)
    return GPU_RESOURCE


def placement(ctx: RenderContext, model: ServedModel) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(nodeSelector, tolerations) for the model's pool, as the pool's nodes are labelled and tainted."""
    kpool = ctx.env.karpenter.node_pools.get(model.pool)
    if model.pool in ctx.env.node_pools or kpool is None:
        return {POOL_LABEL: model.pool}, llm_tolerations(ctx, model.pool)
    labels = karpenter_pool_labels(ctx.env, model.pool, kpool)
    return {POOL_LABEL: labels[POOL_LABEL]}, tolerations_for(karpenter_pool_taints(ctx.env, kpool))


def vllm_args(model: ServedModel, gpu_slice: GpuSlice) -> list[str]:
    args = [f"--gpu-memory-utilization={gpu_slice.memory_utilization}"]
    if model.max_model_len is not None:
        args.append(f"--max-model-len={model.max_model_len}")
    return args


def inference_service(ctx: RenderContext, name: str, model: ServedModel, source: str, version: str,
                      traffic: Optional[int]) -> Manifest:
    gpu_slice = resolved_slice(ctx, name, model)
    runtime, model_format, runtime_args = RUNTIMES[model.runtime]
    resource = gpu_resource(ctx, gpu_slice)
    size = model_size_gb(model, source) or gpu_slice.memory_gb
    memory = f"{max(8, int(size * 1.5) + 4)}Gi"  # weights are staged in host memory while loading
    node_selector, tolerations = placement(ctx, model)
    sa = ctx.irsa(MODEL_SERVING)
    isvc_name = name if version == "stable" else f"{name}-{version}"
    uri = storage_uri(ctx, source)
    cached = ctx.env.storage.efs  # weights fetched once into the model's EFS volume (weights.py)
    annotations = {"serving.kserve.io/deploymentMode": ctx.env.addons.kserve.deployment_mode,
                   **source_annotations(source, uri, cached, size)}
    if traffic is not None:
        annotations[TRAFFIC_ANNOTATION] = str(traffic)
    if model.autoscaling is not None:
        annotations[AUTOSCALER_ANNOTATION] = "external"  # KEDA's ScaledObject, not KServe's HPA
    volumes, mounts = writable_dirs(WRITABLE_DIRS)
    fetch: dict[str, Any] = {}
    if cached:
        volumes.append(cache_volume(isvc_name))
        fetch["initContainers"] = [fetch_container(storage_initializer(ctx), uri)]
    predictor: dict[str, Any] = {
        "serviceAccountName": sa.name,
        "securityContext": restricted_pod_context(),
        "volumes": volumes,
        **fetch,
        **predictor_replicas(model.autoscaling, model.replicas),
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        "model": {
            "modelFormat": {"name": model_format},
            "runtime": runtime,
            "storageUri": cached_storage_uri(isvc_name, uri) if cached else uri,
            "args": [*runtime_args, *vllm_args(model, gpu_slice)],
            "env": [{"name": "HOME", "value": WRITABLE_DIRS["home"]},
                    {"name": "HF_HOME", "value": f"{WRITABLE_DIRS['home']}/huggingface"}],
            "securityContext": restricted_container_context(),
            "volumeMounts": mounts,
            "resources": {
                "requests": {"cpu": "2", "memory": memory, resource: 1},
                "limits": {"memory": memory, resource: 1},
            },
        },
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata(isvc_name, sa.namespace, labels={MODEL_LABEL: name, VERSION_LABEL: version},
                             annotations=annotations),
        "spec": {"predictor": predictor},
    }


def model_versions(ctx: RenderContext, name: str, model: ServedModel) -> list[Manifest]:
    """The stable version, and the canary beside it with the share of traffic it gets."""
    if model.canary is None:
        return [inference_service(ctx, name, model, model.source, "stable", None)]
    share = model.canary.traffic_percent
    return [
        inference_service(ctx, name, model, model.source, "stable", 100 - share),
        inference_service(ctx, name, model, model.canary.source, "canary", share),
    ]


def pod_monitor(name: str, model: ServedModel, namespace: str) -> Manifest:
    # KServe labels every predictor pod with its InferenceService's name: stable and canary both.
    services = [name] + ([f"{name}-canary"] if model.canary is not None else [])
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata(f"model-{name}", namespace, labels={MODEL_LABEL: name}),
        "spec": {
            "selector": {"matchExpressions": [{"key": ISVC_LABEL, "operator": "In", "values": services}]},
            "podMetricsEndpoints": [{"portNumber": METRICS_PORT, "path": "/metrics", "interval": "30s"}],
        },
    }


class ModelServing(DescribedComponent):
    spec = MODEL_SERVING

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        manifests: list[Manifest] = []
        for name, model in ctx.env.serving.models.items():
            versions = model_versions(ctx, name, model)
            manifests += versions
            if ctx.env.storage.efs:
                manifests += [cache_volume_claim(isvc["metadata"]["name"], self.namespace,
                                                 model_size_gb(model, model.source) or resolved_slice(ctx, name, model).memory_gb)
                              for isvc in versions]
            if model.autoscaling is not None and ctx.env.addons.keda.enabled:
                manifests += [scaled_object(isvc["metadata"]["name"], self.namespace, name, model.autoscaling,
                                            {MODEL_LABEL: name}) for isvc in versions]
            if ctx.monitoring_enabled:
                manifests.append(pod_monitor(name, model, self.namespace))
        return manifests
