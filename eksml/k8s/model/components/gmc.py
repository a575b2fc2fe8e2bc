"""`genai.chatqna.deploy: gmc`: the GMC controller, and ChatQnA as a GMConnector.

The router's root node is a Sequence of the environment's `flow`, each stage as the GMC step that
serves it and, where the step calls a model server GMC also runs, that server as a downstream step:
embedding >> retrieval >> reranking >> llm. The LLM step calls the served model's KServe predictor
(`llm_from_serving`), so GMC runs no LLM server of its own.
"""

from __future__ import annotations

from typing import Any

from eksml.components.gmc import CHATQNA_GMC, GMC_CONTROLLER
from eksml.components.serving import MODEL_SERVING, PREDICTOR_PORT, predictor_service
from eksml.config.models_genai import ChatQnA as ChatQnAConfig
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import restricted_pod_context
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

GMC_API = "gmc.opea.io/v1alpha3"
PIPELINE_NAME = "chatqna-flow"
ROUTER = {"name": "router", "serviceName": "router-service"}
_MANAGER_UID = 65532  # the manager is a static Go binary that only reads its mounted manifests


def _service(name: str, downstream: bool = False, **config: str) -> dict[str, Any]:
    service: dict[str, Any] = {"serviceName": name}
    if config:
        service["config"] = config
    if downstream:
        service["isDownstreamService"] = True
    return service


def stage_steps(stage: str, chatqna: ChatQnAConfig, first: bool) -> list[dict[str, Any]]:
    """The GMC steps of one flow stage (step names as GMC's controller knows them); every stage after
    the first reads the previous one's response."""
    llm = chatqna.llm_from_serving or ""
    steps = {
        "embedding": [
            {"name": "Embedding", "internalService": _service(
                "embedding-svc", endpoint="/v1/embeddings", TEI_EMBEDDING_ENDPOINT="http://tei-embedding-svc")},
            {"name": "TeiEmbedding", "internalService": _service(
                "tei-embedding-svc", downstream=True, MODEL_ID=chatqna.embedding_model)},
        ],
        "retrieval": [
            {"name": "Retriever", "internalService": _service(
                "retriever-svc", endpoint="/v1/retrieval", REDIS_HOST="redis-vector-db",
                TEI_EMBEDDING_ENDPOINT="http://tei-embedding-svc")},
            {"name": "VectorDB", "internalService": _service("redis-vector-db", downstream=True)},
        ],
        "reranking": [
            {"name": "Reranking", "internalService": _service(
                "reranking-svc", endpoint="/v1/reranking", TEI_RERANKING_ENDPOINT="http://tei-reranking-svc")},
            {"name": "TeiReranking", "internalService": _service(
                "tei-reranking-svc", downstream=True, endpoint="/rerank", MODEL_ID=chatqna.reranking_model)},
        ],
        "llm": [
            {"name": "Llm", "internalService": _service(
                "llm-svc", endpoint="/v1/chat/completions", LLM_MODEL_ID=llm,
                LLM_ENDPOINT=f"http://{predictor_service(llm)}.{MODEL_SERVING.namespace}:{PREDICTOR_PORT}")},
        ],
    }[stage]
    if not first:
        steps[0] = {**steps[0], "data": "$response"}
    return steps


def gmconnector(ctx: RenderContext) -> Manifest:
    chatqna = ctx.env.genai.chatqna
    assert chatqna is not None  # the gate
    steps: list[dict[str, Any]] = []
    for index, stage in enumerate(chatqna.flow):
        steps += stage_steps(stage, chatqna, first=index == 0)
    return {
        "apiVersion": GMC_API,
        "kind": "GMConnector",
        "metadata": metadata(PIPELINE_NAME, CHATQNA_GMC.namespace, labels={"gmc/platform": "nvidia"}),
        "spec": {"routerConfig": ROUTER, "nodes": {"root": {"routerType": "Sequence", "steps": steps}}},
    }


class GmcController(DescribedComponent):
    spec = GMC_CONTROLLER

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {
            "podSecurityContext": restricted_pod_context(_MANAGER_UID),
            "securityContext": {**RESTRICTED_CONTAINER, "runAsUser": _MANAGER_UID, "runAsGroup": _MANAGER_UID},
        }


class ChatQnAGmc(DescribedComponent):
    spec = CHATQNA_GMC

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return [gmconnector(ctx)]
