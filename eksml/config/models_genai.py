"""Typed `genai` section of the environment file: OPEA ChatQnA, its flow, where its LLM comes from and
how it is deployed (the chart, or GMC). Rules that need the whole file (pools, served models, tiers)
are in rules.py."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from eksml.config.value_checks import dns_label, model_id

ModelId = Annotated[str, AfterValidator(model_id)]
DnsLabel = Annotated[str, AfterValidator(dns_label)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LlmGpu(_Strict):
    mig_profile: Optional[str] = None
    count: Optional[StrictInt] = Field(default=None, ge=1, le=8)

    @model_validator(mode="after")
    def _one_of(self) -> "LlmGpu":
        if (self.mig_profile is None) == (self.count is None):
            raise ValueError("set exactly one of mig_profile (on a MIG pool) or count (on a time-slicing pool)")
        return self


ChatQnAStage = Literal["embedding", "retrieval", "reranking", "llm"]


class ChatQnA(_Strict):
    enabled: StrictBool = True
    flow: list[ChatQnAStage] = Field(default_factory=lambda: ["embedding", "retrieval", "reranking", "llm"])
    embedding_model: ModelId
    reranking_model: ModelId
    llm_model: ModelId  # the in-chart server's model
    llm_serving: Literal["vllm", "tgi"] = "vllm"
    # A model of serving.models: the LLM step calls its KServe vLLM service and the chart runs no LLM
    # server of its own (one copy of the model on the GPUs, not two). Without it, the chart's vLLM or
    # TGI runs on llm_node_pool with llm_gpu.
    llm_from_serving: Optional[DnsLabel] = None
    llm_node_pool: Optional[str] = None
    llm_gpu: Optional[LlmGpu] = None
    # helm: the OPEA chart; gmc: a GMConnector the GenAI Microservices Connector turns into services.
    deploy: Literal["helm", "gmc"] = "helm"

    @model_validator(mode="after")
    def _one_llm_server(self) -> "ChatQnA":
        if self.deploy == "gmc" and self.llm_from_serving is None:
            raise ValueError("deploy: gmc calls a served model for the LLM step (GMC's own LLM servers read models "
                             "from a host path): set llm_from_serving to a model of serving.models")
        if self.llm_from_serving is not None:
            extra = [name for name in ("llm_node_pool", "llm_gpu") if getattr(self, name) is not None]
            if extra:
                raise ValueError(f"{' and '.join(extra)} place the chart's own LLM server, which does not run with "
                                 f"llm_from_serving ({self.llm_from_serving}); remove {'them' if len(extra) > 1 else 'it'}")
        else:
            missing = [name for name in ("llm_node_pool", "llm_gpu") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"set {' and '.join(missing)} for the chart's own LLM server, or llm_from_serving "
                                 "to a model of serving.models")
        return self


class GenAI(_Strict):
    chatqna: Optional[ChatQnA] = None
