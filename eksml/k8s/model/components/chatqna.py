"""OPEA ChatQnA: embedding (TEI) >> retrieval (retriever + Redis) >> reranking (TEI) >> LLM.

Only the LLM needs a GPU. It is pinned to `genai.chatqna.llm_node_pool` by the pool label, tolerates
that pool's taints (and those of Karpenter pools that overflow it), and asks for the resource the
pool's sharing mode advertises: a MIG profile on a mixed-strategy MIG pool, else `nvidia.com/gpu`.
With `llm_from_serving` the chart runs no LLM server: the LLM step calls that served model's KServe
predictor (externalLLM), so the model sits on the GPUs once.

Every container the values reach runs without privilege escalation or capabilities, with the runtime's
seccomp profile (`security_values`), as non-root on a read-only root file system. What the charts
hard-code beyond their values (init containers, the UI's writable app folder) is changed after
rendering: eksml/k8s/model/components/chatqna_patches.py.
"""

from __future__ import annotations

from typing import Any

from eksml.charts.post_render import Patch
from eksml.config.models_genai import ChatQnA as ChatQnAConfig
from eksml.contract.names import POOL_LABEL
from eksml.gpu.sharing import GPU_RESOURCE, mig_resource_name, pool_gpu
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.tracing import OTEL_OPERATOR, OTLP_ENDPOINT, OTLP_HTTP_TRACES_URL
from eksml.config.components import component_enabled
from eksml.k8s.model.components.auto_instrumentation import GATEWAY_INSTRUMENTATION, INJECT_PYTHON, gateway_instrumentation
from eksml.components.serving import MODEL_SERVING, PREDICTOR_PORT, predictor_service
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, controller_replicas
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.chatqna_patches import chatqna_patches
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import restricted_pod_context
from eksml.k8s.model.manifests import metadata, tolerations_for
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.pools import karpenter_pool_taints
from eksml.k8s.model.values import deep_merge

LLM_SERVERS = ("vllm", "tgi")
ANY_UID = 65532  # TEI, Redis, vLLM and nginx run as any uid (HOME and caches on emptyDirs)
# The OPEA Python images (gateway, retriever, data-prep) are built around their `user` (uid 1000,
# HOME /home/user, which holds the code); an unknown uid would have no passwd entry and no HOME.
OPEA_UID = 1000
# Ports from 80 up are unprivileged in nginx's own network namespace: it keeps port 80 (the Service's,
# the ALB's target) as a non-root user without NET_BIND_SERVICE.
NGINX_PORT_SYSCTL = {"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}
# Every OPEA sub-chart adds this ConfigMap's keys to its container's env (`global.extraEnvConfig`).
TELEMETRY_CONFIG = "chatqna-telemetry"


def telemetry_env() -> dict[str, str]:
    """OPEA's microservices trace when TELEMETRY_ENDPOINT is set (GenAIComps comps/cores/telemetry);
    TEI when OTLP_ENDPOINT is (its --otlp-endpoint)."""
    return {"TELEMETRY_ENDPOINT": OTLP_HTTP_TRACES_URL, "OTLP_ENDPOINT": OTLP_ENDPOINT}


def non_root(uid: int, pod: dict[str, Any] | None = None, **container: Any) -> dict[str, Any]:
    """Pod and container securityContext for one subchart: non-root `uid`, restricted otherwise. The
    pod-level uid also covers the init containers the charts hard-code (chatqna_patches)."""
    return {
        "podSecurityContext": {**restricted_pod_context(uid), **(pod or {})},
        "securityContext": {**RESTRICTED_CONTAINER, "runAsUser": uid, "runAsGroup": uid, **container},
    }


def security_values() -> dict[str, Any]:
    """Top level (the gateway) and subchart keys; the charts' own defaults add capabilities (nginx),
    run as root (vLLM, nginx) or set nothing (the UI)."""
    return {
        **non_root(OPEA_UID),
        "retriever-usvc": non_root(OPEA_UID),
        "data-prep": non_root(OPEA_UID),
        **{chart: non_root(ANY_UID) for chart in ("tei", "teirerank", "redis-vector-db", "vllm")},
        "nginx": non_root(ANY_UID, pod={"sysctls": [NGINX_PORT_SYSCTL]}, capabilities={"drop": ["ALL"], "add": []}),
        # `npm run preview` writes Vite's bundled config beside the app: the app is copied into an
        # emptyDir first (chatqna_patches), so the UI needs neither root nor a writable root.
        "chatqna-ui": non_root(ANY_UID),
    }


def llm_gpu_resource(ctx: RenderContext, chatqna: ChatQnAConfig) -> tuple[str, int]:
    if chatqna.llm_gpu.mig_profile is None:
        return GPU_RESOURCE, chatqna.llm_gpu.count
    profile_name = chatqna.llm_gpu.mig_profile
    pool = ctx.env.node_pools.get(chatqna.llm_node_pool)
    gpu = pool_gpu(pool, ctx.catalog) if pool is not None else None
    return mig_resource_name(gpu, profile_name, ctx.catalog), 1


def llm_tolerations(ctx: RenderContext, pool_name: str) -> list[dict[str, str]]:
    pool = ctx.env.node_pools.get(pool_name)
    taints = list(pool.taints) if pool is not None else []
    for kpool in ctx.env.karpenter.node_pools.values():
        if kpool.overflow_for == pool_name:
            taints += [t for t in karpenter_pool_taints(ctx.env, kpool)]
    tolerations: list[dict[str, str]] = []
    for toleration in tolerations_for(taints):
        if toleration not in tolerations:
            tolerations.append(toleration)
    return tolerations


def served_llm(name: str) -> dict[str, Any]:
    """The chart's externalLLM pointed at a served model's KServe predictor (vLLM's OpenAI server,
    which answers under the InferenceService's name); the chart runs no LLM server of its own."""
    return {"enabled": True, "LLM_SERVER_HOST": f"{predictor_service(name)}.{MODEL_SERVING.namespace}",
            "LLM_SERVER_PORT": str(PREDICTOR_PORT), "LLM_MODEL": name,
            "OPENAI_API_KEY": ""}  # KServe's predictor takes no key; the NetworkPolicies admit ChatQnA


def llm_values(ctx: RenderContext, chatqna: ChatQnAConfig) -> dict[str, Any]:
    off = {"enabled": False}
    if chatqna.llm_from_serving is not None:
        return {**{server: off for server in LLM_SERVERS}, "externalLLM": served_llm(chatqna.llm_from_serving)}
    resource, quantity = llm_gpu_resource(ctx, chatqna)
    llm = {
        "enabled": True,
        "LLM_MODEL_ID": chatqna.llm_model,
        "accelDevice": "nvidia",
        "nodeSelector": {POOL_LABEL: chatqna.llm_node_pool},
        "tolerations": llm_tolerations(ctx, chatqna.llm_node_pool),
        "resources": {"requests": {resource: quantity}, "limits": {resource: quantity}},
    }
    return {server: (llm if server == chatqna.llm_serving else off) for server in LLM_SERVERS}


class ChatQnA(DescribedComponent):
    spec = OPEA_CHATQNA

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        chatqna = ctx.env.genai.chatqna
        stages = set(chatqna.flow)
        values = llm_values(ctx, chatqna)
        retrieval = "retrieval" in stages
        values.update({
            "tei": {"enabled": "embedding" in stages, "EMBEDDING_MODEL_ID": chatqna.embedding_model},
            "retriever-usvc": {"enabled": retrieval},
            "redis-vector-db": {"enabled": retrieval},
            "data-prep": {"enabled": retrieval},
            # Not in the flow: the reranking service is not deployed at all.
            "teirerank": {"enabled": "reranking" in stages, "RERANK_MODEL_ID": chatqna.reranking_model},
            "global": {
                "monitoring": ctx.monitoring_enabled,
                "prometheusNamespace": KUBE_PROMETHEUS_STACK.namespace,
                "prometheusRelease": KUBE_PROMETHEUS_STACK.name,
                **({"extraEnvConfig": TELEMETRY_CONFIG} if ctx.tracing_enabled else {}),
            },
        })
        if component_enabled(ctx.env, OTEL_OPERATOR):  # the operator instruments the gateway (its spans)
            values["podAnnotations"] = {INJECT_PYTHON: GATEWAY_INSTRUMENTATION}
        if not retrieval:  # the chart's UI and gateway need data-prep
            values.update({"nginx": {"enabled": False}, "chatqna-ui": {"enabled": False}})
        else:  # the gateway sits behind the shared ALB: two at staging and prod
            values["nginx"] = {"replicaCount": controller_replicas(ctx)}
        return deep_merge(security_values(), values)

    def patches(self, ctx: RenderContext) -> list[Patch]:
        return chatqna_patches()

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        if not ctx.tracing_enabled:
            return []
        instrumented = [gateway_instrumentation()] if component_enabled(ctx.env, OTEL_OPERATOR) else []
        return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(TELEMETRY_CONFIG, OPEA_CHATQNA.namespace),
                 "data": telemetry_env()}, *instrumented]
