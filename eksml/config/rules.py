"""Validation rules: the whole-file checks, collected from the rule modules and run by the loader.

Each rule yields (field path, message) pairs; the loader attaches the file name. A message says
what is wrong and what is allowed, so a user can fix it without reading our code. Rules live by
concern in rules_facts, rules_network, rules_pools and aws_names; the ChatQnA and add-on rules are here.
"""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog, load_catalog
from eksml.config import (aws_names, rules_efa, rules_facts, rules_mesh, rules_network, rules_operations,
                          rules_pools, rules_reservations, rules_serving, rules_teams, rules_training, rules_versions)
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, Rule, is_warning, names as _names, needs, runnable

CHATQNA_STAGES = ("embedding", "retrieval", "reranking", "llm")



def _protected(env: Environment) -> bool:
    try:
        return env.protected
    except ValueError:  # no tier: tier_is_known reports it
        return False


@needs("genai", "node_pools", "serving", "name", "tier")
def genai_references(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    chatqna = env.genai.chatqna
    if chatqna is None or not chatqna.enabled:
        return
    base = "genai.chatqna"
    flow = list(chatqna.flow)
    expected = [stage for stage in CHATQNA_STAGES if stage in flow]
    if flow != expected or len(set(flow)) != len(flow):
        yield f"{base}.flow", f"stages must appear once each, in the order {' >> '.join(CHATQNA_STAGES)}; got {' >> '.join(flow)}"
    for required in ("embedding", "retrieval", "llm"):
        if required not in flow:
            yield f"{base}.flow", f"the flow needs the '{required}' stage (reranking is the only optional one)"
    if chatqna.deploy == "gmc" and _protected(env):
        yield f"{base}.deploy", ("GMC creates TEI from its chart's manifests, which mount the host path "
                                 "/mnt/opea-models, so its namespace enforces no Pod Security; staging and prod "
                                 "deploy ChatQnA with the chart: deploy: helm")
    if chatqna.llm_from_serving is not None:
        yield from _served_llm_findings(env, chatqna.llm_from_serving)
        return
    gpu_pools = env.gpu_pools()
    pool = env.node_pools.get(chatqna.llm_node_pool)
    if pool is None:
        yield f"{base}.llm_node_pool", f"no node pool named '{chatqna.llm_node_pool}'; GPU pools: {_names(gpu_pools)}"
        return
    if not pool.kind.is_gpu:
        yield (
            f"{base}.llm_node_pool",
            f"'{chatqna.llm_node_pool}' is a cpu pool; the LLM needs a GPU pool: {_names(gpu_pools)}",
        )
        return
    gpu = chatqna.llm_gpu
    mixed_mig = pool.mig is not None and pool.mig.strategy == "mixed"
    if gpu.mig_profile is not None:
        if not mixed_mig:
            yield (
                f"{base}.llm_gpu.mig_profile",
                f"pool '{chatqna.llm_node_pool}' is not a mixed-strategy MIG pool, so it has no MIG resources; "
                "use llm_gpu: {count: N}",
            )
        elif gpu.mig_profile not in pool.mig.layout:
            yield (
                f"{base}.llm_gpu.mig_profile",
                f"'{gpu.mig_profile}' is not in pool '{chatqna.llm_node_pool}' layout; "
                f"allowed: {_names(set(pool.mig.layout))}",
            )
    elif mixed_mig:
        yield (
            f"{base}.llm_gpu.count",
            f"pool '{chatqna.llm_node_pool}' uses MIG strategy mixed and offers no plain nvidia.com/gpu; "
            f"request a profile with llm_gpu: {{mig_profile: ...}} from {_names(set(pool.mig.layout))}",
        )
    elif gpu.count is not None and pool.time_slicing is not None and gpu.count > 1:
        yield (
            f"{base}.llm_gpu.count",
            "a time-slicing pool gives each pod at most 1 shared GPU replica (more gives no extra compute); use count: 1",
        )


def _served_llm_findings(env: Environment, name: str) -> Iterator[Finding]:
    path = "genai.chatqna.llm_from_serving"
    model = env.serving.models.get(name)
    if model is None:
        yield path, f"'{name}' is not a model of serving.models; served: {_names(env.serving.models)}"
    elif model.runtime != "vllm":
        yield path, (f"serving.models.{name} runs on the {model.runtime} runtime, which serves the OpenAI API under "
                     "/openai/v1; ChatQnA's LLM step calls /v1 (the vllm runtime): set its runtime: vllm")


@needs("addons")
def mlflow_has_its_secret_delivery(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.addons.mlflow.enabled and not env.addons.external_secrets.enabled:
        yield (
            "addons.external_secrets.enabled",
            "MLflow reads its database password through external-secrets (RDS rotates it); "
            "enable external_secrets or disable mlflow",
        )


RULES: tuple[Rule, ...] = (
    *rules_facts.RULES,
    *rules_network.RULES,
    *rules_pools.RULES,
    *rules_efa.RULES,
    *rules_reservations.RULES,
    genai_references,
    *aws_names.RULES,
    mlflow_has_its_secret_delivery,
    *rules_versions.RULES,
    *rules_serving.RULES,
    *rules_operations.RULES,
    *rules_mesh.RULES,
    *rules_training.RULES,
    *rules_teams.RULES,
)


def check_environment(env: Environment, catalog: Catalog | None = None, *,
                      valid: frozenset[str] | None = None) -> list[Finding]:
    """Every finding of every rule that can run; `valid` names the sections that validated (default: all)."""
    catalog = catalog or load_catalog()
    valid = frozenset(Environment.model_fields) if valid is None else valid
    return [finding for rule in RULES if not is_warning(rule) and runnable(rule, valid) for finding in rule(env, catalog)]


def warn_environment(env: Environment, catalog: Catalog | None = None) -> list[Finding]:
    """The warnings of a valid environment: worth telling, not worth refusing (e.g. extended support)."""
    catalog = catalog or load_catalog()
    return [finding for rule in RULES if is_warning(rule) for finding in rule(env, catalog)]
