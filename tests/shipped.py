"""The environments the project ships, named once for every test module that walks them."""

from __future__ import annotations

import copy

import yaml

from eksml.config import Environment
from eksml.config.loader import known_environments
from eksml.paths import ENVIRONMENTS_DIR

SHIPPED = known_environments()


def shipped_text(name: str) -> str:
    """The environment file as written, for tests that edit its text."""
    return (ENVIRONMENTS_DIR / f"{name}.yaml").read_text()


def shipped_data(name: str) -> dict:
    """A fresh parse of the environment file, safe to modify."""
    return yaml.safe_load(shipped_text(name))


# dev's ChatQnA calls KServe's mistral-7b (llm_from_serving); the tests of the chart's own LLM server
# (its MIG slice, placement and tolerations) run on dev with that server back, as staging has it.
CHART_LLM = {"llm_serving": "vllm", "llm_node_pool": "a100-mig", "llm_gpu": {"mig_profile": "3g.40gb"}}


def with_chart_llm(data: dict) -> dict:
    chatqna = data["genai"]["chatqna"]
    chatqna.pop("llm_from_serving", None)
    chatqna.update(copy.deepcopy(CHART_LLM))
    return data


def dev_with_chart_llm() -> Environment:
    return Environment.model_validate(with_chart_llm(shipped_data("dev")))


def dev_with_gmc(flow: list[str] | None = None) -> Environment:
    """dev with ChatQnA through GMC (genai.chatqna.deploy: gmc), without the chart's UI it no longer has."""
    data = shipped_data("dev")
    data["genai"]["chatqna"]["deploy"] = "gmc"
    if flow is not None:
        data["genai"]["chatqna"]["flow"] = flow
    data["access"]["expose"].remove("chatqna-ui")
    return Environment.model_validate(data)
