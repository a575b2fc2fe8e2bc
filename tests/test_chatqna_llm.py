"""One LLM, not two: with `llm_from_serving`, ChatQnA's LLM step calls a served model's KServe vLLM
service (the chart's externalLLM) and the chart runs no vLLM or TGI of its own; the in-chart server
stays the option when it is unset."""

from __future__ import annotations

from eksml.components.serving import MODEL_SERVING, PREDICTOR_PORT, predictor_service
from eksml.config import load_environment
from eksml.k8s.checks.platform_checks import placed_objects
from eksml.k8s.checks.network_check import platform_of, policy_set
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs

ENV = load_environment("dev")


def _chart(render, release: str, kind: str) -> dict[str, dict]:
    return {o.name: o.body for o in render.charts.release(release).objects if o.kind == kind}


def _megaservice_env(render) -> dict[str, str]:
    deployment = _chart(render, "opea-chatqna", "Deployment")["opea-chatqna"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_the_llm_step_calls_the_served_models_predictor_and_no_second_vllm_runs(dev_render):
    served = ENV.genai.chatqna.llm_from_serving
    assert served in ENV.serving.models
    env = _megaservice_env(dev_render)
    assert env["LLM_SERVER_HOST_IP"] == f"{predictor_service(served)}.{MODEL_SERVING.namespace}"
    assert env["LLM_SERVER_PORT"] == str(PREDICTOR_PORT)
    # The vllm runtime names the model after its InferenceService (--served-model-name={{.Name}}).
    assert env["LLM_MODEL"] == served
    runtime = _chart(dev_render, "kserve-runtime-configs", "ClusterServingRuntime")["kserve-vllmserver"]
    assert "--served-model-name={{.Name}}" in runtime["spec"]["containers"][0]["args"]
    platform = build_platform(ENV, predict_outputs(ENV))
    isvcs = {m["metadata"]["name"] for m in platform.component(MODEL_SERVING.name).objects if m["kind"] == "InferenceService"}
    assert served in isvcs
    deployments = _chart(dev_render, "opea-chatqna", "Deployment")
    assert not [name for name in deployments if name.endswith(("-vllm", "-tgi"))]


def test_the_network_admits_chatqna_to_the_served_model_only_on_the_predictor(dev_render):
    platform = build_platform(ENV, predict_outputs(ENV))
    objects = placed_objects(platform, dev_render.charts)
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    pods = {p.name: p for p in platform_of(objects, namespaces, list(ENV.teams), [c.name for c in platform.components]).pods}
    policies = policy_set(objects, namespaces, ENV.network.vpc_cidr)
    megaservice = pods["Deployment chatqna/opea-chatqna"]
    predictor = pods[f"InferenceService {MODEL_SERVING.namespace}/{ENV.genai.chatqna.llm_from_serving} predictor"]
    assert policies.verdict(megaservice, predictor, 8080).allowed
    assert not policies.verdict(megaservice, predictor, 22).allowed


def test_the_in_chart_vllm_stays_the_option_and_asks_for_its_gpu(chart_llm_render, dev_render):
    assert "opea-chatqna-vllm" in _chart(chart_llm_render, "opea-chatqna", "Deployment")
    assert _megaservice_env(chart_llm_render)["LLM_SERVER_HOST_IP"] == "opea-chatqna-vllm"

    def chatqna_gpus(render):
        return sum(1 for p in render.placements if p.workload.component == "opea-chatqna" and p.workload.asks_for_gpu)

    assert chatqna_gpus(chart_llm_render) == 1 and chatqna_gpus(dev_render) == 0  # the copy dev no longer runs
