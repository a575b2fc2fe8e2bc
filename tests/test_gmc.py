"""ChatQnA through OPEA's GenAI Microservices Connector (`genai.chatqna.deploy: gmc`): the gmc chart
instead of the ChatQnA chart, a GMConnector valid against the chart's CRD whose router sequence
follows the flow, the LLM step on the served model, and a clear stop where no mirror serves the chart."""

from __future__ import annotations

import json

import pytest
from shipped import dev_with_gmc as gmc_dev, shipped_data

from eksml.charts.kube_yaml import ManifestObject
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.gmc import CHATQNA_GMC, GMC_CONTROLLER
from eksml.components.serving import MODEL_SERVING, PREDICTOR_PORT, predictor_service
from eksml.config.models import Environment
from eksml.errors import StageError
from eksml.k8s.checks.object_checks import Placed, crd_index, custom_resource_issues
from eksml.k8s.checks.platform_checks import placed_objects
from eksml.k8s.model.chart_requests import wanted_charts
from eksml.k8s.model.platform import build_platform
from eksml.k8s.model.pod_security_levels import PRIVILEGED, enforced_level
from eksml.k8s.rendering.render import render_platform
from eksml.outputs import predict_outputs

# GMC's step for each flow stage, in the order the router calls them (downstream model servers aside).
STAGE_STEP = {"embedding": "Embedding", "retrieval": "Retriever", "reranking": "Reranking", "llm": "Llm"}


def _connector(env: Environment) -> dict:
    platform = build_platform(env, predict_outputs(env))
    [connector] = [m for m in platform.component(CHATQNA_GMC.name).objects if m["kind"] == "GMConnector"]
    return connector


@pytest.fixture(scope="module")
def gmc_render(session_charts, session_cache, tmp_path_factory):
    env = gmc_dev()
    result = render_platform(env, predict_outputs(env), tmp_path_factory.mktemp("gmc-render"), with_charts=True,
                             cache=session_cache, mirror=session_charts.url)
    return env, result


def test_gmc_mode_installs_the_connector_instead_of_the_chatqna_chart(gmc_render):
    env, result = gmc_render
    releases = {r.name for r in result.charts.releases}
    assert GMC_CONTROLLER.name in releases and OPEA_CHATQNA.name not in releases
    components = {c.name for c in build_platform(env, predict_outputs(env)).components}
    assert CHATQNA_GMC.name in components
    helm_mode = {c.name for c in build_platform(Environment.model_validate(shipped_data("dev")),
                                                 predict_outputs(env)).components}
    assert OPEA_CHATQNA.name in helm_mode and not {GMC_CONTROLLER.name, CHATQNA_GMC.name} & helm_mode


def test_the_connector_validates_against_the_gmc_charts_crd(gmc_render):
    env, result = gmc_render
    placed = placed_objects(build_platform(env, predict_outputs(env)), result.charts)
    crds = crd_index(placed)
    crd = crds[("gmc.opea.io", "GMConnector")]
    assert crd.release == GMC_CONTROLLER.name
    [connector] = [p for p in placed if p.obj.kind == "GMConnector"]
    assert custom_resource_issues(connector, crds) == []
    body = json.loads(json.dumps(connector.obj.body))
    body["spec"]["nodes"]["root"]["routerType"] = "Parallel"
    body["spec"]["nodes"]["root"]["steps"][0]["internalService"]["config"]["MODEL_ID"] = 7
    broken = Placed(connector.release, ManifestObject(connector.obj.source, body), connector.before, connector.file)
    paths = {issue.path.rsplit(".", 1)[-1] for issue in custom_resource_issues(broken, crds)}
    assert {"routerType", "MODEL_ID"} <= paths, paths


@pytest.mark.parametrize("flow", [["embedding", "retrieval", "reranking", "llm"], ["embedding", "retrieval", "llm"]])
def test_the_router_sequence_follows_the_flow(flow):
    root = _connector(gmc_dev(flow))["spec"]["nodes"]["root"]
    assert root["routerType"] == "Sequence"
    called = [s["name"] for s in root["steps"] if not s["internalService"].get("isDownstreamService")]
    assert called == [STAGE_STEP[stage] for stage in flow]
    assert [s.get("data") for s in root["steps"] if s["name"] in called] == [None] + ["$response"] * (len(flow) - 1)
    assert ("TeiReranking" in {s["name"] for s in root["steps"]}) is ("reranking" in flow)


def test_the_llm_step_calls_the_served_model_and_gmc_runs_no_llm_server():
    env = gmc_dev()
    steps = _connector(env)["spec"]["nodes"]["root"]["steps"]
    [llm] = [s for s in steps if s["name"] == "Llm"]
    served = env.genai.chatqna.llm_from_serving
    config = llm["internalService"]["config"]
    assert config["LLM_ENDPOINT"] == f"http://{predictor_service(served)}.{MODEL_SERVING.namespace}:{PREDICTOR_PORT}"
    assert config["LLM_MODEL_ID"] == served and served in env.serving.models
    assert not {"Tgi", "TgiNvidia", "Vllm"} & {s["name"] for s in steps}


def test_its_namespace_says_why_it_enforces_no_pod_security():
    assert enforced_level(CHATQNA_GMC.namespace) == PRIVILEGED
    assert enforced_level(GMC_CONTROLLER.namespace) == "restricted"


def test_without_a_mirror_the_unpublished_chart_stops_the_render_with_a_hint():
    with pytest.raises(StageError) as caught:
        wanted_charts(gmc_dev(), mirror=None)
    assert caught.value.stage == "charts" and "gmc" in str(caught.value) and "mirror" in caught.value.hint
    assert any(r.release == GMC_CONTROLLER.name for r in wanted_charts(gmc_dev(), mirror="http://127.0.0.1:1"))
