"""Models from the environment file: one InferenceService per model (two with a canary), sized and
placed by the pool's GPU sharing, and bad model declarations refused with their field paths."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from serving_helpers import edited, issues_of, objects_of, platform_of, weights_source

from eksml.cli import cli
from eksml.config.gpu_slice import model_slice
from eksml.config import load_environment
from eksml.catalog import load_catalog
from eksml.promote import plan_promotion
from eksml.contract.names import POOL_LABEL
from shared_data import SHARED_DIR

CRD_CHART = SHARED_DIR / "charts" / "kserve-crd-v0.20.0.tgz"


def isvcs(env_name: str) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in objects_of(platform_of(env_name), "model-serving", "InferenceService")}


def test_mig_model_requests_its_profile_and_tolerates_the_pool():
    predictor = isvcs("dev")["mistral-7b"]["spec"]["predictor"]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/mig-2g.20gb"] == 1
    assert predictor["nodeSelector"] == {POOL_LABEL: "a100-mig"}
    assert {"key": "gpu", "operator": "Equal", "value": "mig", "effect": "NoSchedule"} in predictor["tolerations"]
    assert predictor["serviceAccountName"] == "kserve-models"
    assert "--gpu-memory-utilization=0.9" in predictor["model"]["args"]
    assert predictor["model"]["runtime"] == "kserve-vllmserver"


def test_time_slicing_model_gets_a_replica_and_its_share_of_memory():
    predictor = isvcs("dev")["tinyllama"]["spec"]["predictor"]
    resources = predictor["model"]["resources"]["limits"]
    assert resources["nvidia.com/gpu"] == 1 and not any(k.startswith("nvidia.com/mig-") for k in resources)
    # 4 replicas of a 40 GB A100: vLLM may take 0.9 of a quarter of the GPU it sees whole.
    assert "--gpu-memory-utilization=0.22" in predictor["model"]["args"]
    assert "--max-model-len=2048" in predictor["model"]["args"]
    assert weights_source(predictor) == "s3://mlplatform-dev-artifacts/models/registry/tinyllama/candidate/"


def test_canary_has_both_versions_with_complementary_traffic():
    services = isvcs("dev")
    stable, canary = services["mistral-7b"], services["mistral-7b-canary"]
    assert weights_source(stable).endswith("/registry/mistral-7b/champion/")
    assert weights_source(canary).endswith("/registry/mistral-7b/challenger/")
    shares = [int(m["metadata"]["annotations"]["eksml.io/traffic-percent"]) for m in (stable, canary)]
    assert shares == [90, 10]


def test_inference_services_validate_strictly_against_the_kserve_crd():
    import tarfile

    from eksml.k8s.checks.crd_schema import custom_resource_errors

    with tarfile.open(CRD_CHART) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("serving.kserve.io_inferenceservices.yaml"))
        crd = yaml.safe_load(tar.extractfile(member).read())
    for name in ("dev", "staging", "prod", "local"):
        for manifest in isvcs(name).values():
            assert list(custom_resource_errors(manifest, crd, "v1beta1")) == [], manifest["metadata"]["name"]


def test_model_too_large_for_its_slice_is_refused(tmp_path):
    def edit(data):
        data["serving"]["models"]["mistral-7b"]["mig_profile"] = "1g.10gb"
    issues = issues_of(edited("dev", tmp_path, edit))
    message = issues["serving.models.mistral-7b.source"]
    assert "~14 GB" in message and "1g.10gb" in message


def test_seven_b_on_a_time_slicing_replica_is_refused(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["source"] = "codellama/CodeLlama-7b-hf"
        del data["serving"]["models"]["tinyllama"]["size_gb"]
    assert "time-slicing replica" in issues_of(edited("dev", tmp_path, edit))["serving.models.tinyllama.source"]


@pytest.mark.parametrize("pool, fragment", [
    ("cpu", "cpu pool without GPUs"),
    ("a100-missing", "no node pool named 'a100-missing'"),
    ("training-workloads", "no GPU instance types"),
])
def test_pool_without_gpus_or_unknown_is_refused(tmp_path, pool, fragment):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["pool"] = pool
    assert fragment in issues_of(edited("dev", tmp_path, edit))["serving.models.tinyllama.pool"]


@pytest.mark.parametrize("percent", [0, 100, 150])
def test_canary_outside_1_to_99_is_refused(tmp_path, percent):
    def edit(data):
        data["serving"]["models"]["mistral-7b"]["canary"]["traffic_percent"] = percent
    assert "serving.models.mistral-7b.canary.traffic_percent" in issues_of(edited("dev", tmp_path, edit))


def test_mixed_mig_pool_needs_a_profile_from_its_layout(tmp_path):
    def edit(data):
        data["serving"]["models"]["mistral-7b"]["mig_profile"] = "7g.80gb"
    assert "allowed: 1g.10gb, 2g.20gb, 3g.40gb" in issues_of(edited("dev", tmp_path, edit))["serving.models.mistral-7b.mig_profile"]


def test_s3_source_must_be_under_the_model_prefix_and_unknown_sizes_need_size_gb(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["source"] = "s3://someone-elses-bucket/llm/x"
        del data["serving"]["models"]["tinyllama"]["size_gb"]
    issues = issues_of(edited("dev", tmp_path, edit))
    assert "s3://mlplatform-dev-artifacts/models/" in issues["serving.models.tinyllama.source"]
    assert "set size_gb" in issues["serving.models.tinyllama.size_gb"]


def test_s3_model_with_size_renders_with_the_s3_uri(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"].update(source="s3://mlplatform-dev-artifacts/models/tiny/v3", size_gb=3)
    path = edited("dev", tmp_path, edit)
    predictor = {m["metadata"]["name"]: m for m in objects_of(platform_of(path), "model-serving", "InferenceService")}["tinyllama"]
    assert weights_source(predictor) == "s3://mlplatform-dev-artifacts/models/tiny/v3"


def test_bad_model_exits_2_through_the_cli(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["pool"] = "cpu"
    result = CliRunner().invoke(cli, ["validate", str(edited("dev", tmp_path, edit))])
    assert result.exit_code == 2, result.output
    assert "serving.models.tinyllama.pool" in result.output


def test_karpenter_pool_gives_a_whole_gpu():
    env = load_environment("dev")
    model = env.serving.models["tinyllama"].model_copy(update={"pool": "gpu-workloads"})
    gpu_slice = model_slice(env, load_catalog(), model)
    assert gpu_slice.sharing == "whole" and gpu_slice.memory_gb == 24  # the smallest: A10G


def test_promote_carries_model_versions_and_canary(tmp_path):
    import shutil

    from eksml.paths import ENVIRONMENTS_DIR

    for name in ("dev", "staging"):
        shutil.copy(ENVIRONMENTS_DIR / f"{name}.yaml", tmp_path / f"{name}.yaml")
    dev = tmp_path / "dev.yaml"
    text = dev.read_text()
    text = text.replace("source: mlflow://mistral-7b@champion", "source: mistralai/Mistral-7B-Instruct-v0.3")
    text = text.replace("canary: {source: mlflow://mistral-7b@challenger, traffic_percent: 10}",
                        "canary: {source: mistralai/Mistral-7B-v0.1, traffic_percent: 25}")
    dev.write_text(text)
    promotion = plan_promotion(dev, tmp_path / "staging.yaml")
    changed = {c.field: c.after for c in promotion.changes}
    assert changed == {
        "serving.models.mistral-7b.source": "mistralai/Mistral-7B-Instruct-v0.3",
        "serving.models.mistral-7b.canary.source": "mistralai/Mistral-7B-v0.1",
        "serving.models.mistral-7b.canary.traffic_percent": 25,
    }
    promoted = yaml.safe_load(promotion.new_text)["serving"]["models"]["mistral-7b"]
    assert promoted["mig_profile"] == "2g.20gb" and promoted["replicas"] == 2  # sizing stays staging's


def test_the_scheduling_check_sees_each_model_pod():
    """KServe makes the pods at run time; the scheduling check reads them from the InferenceService."""
    from eksml.charts.kube_yaml import ManifestObject
    from eksml.k8s.checks.rendered_pods import workloads_of_object

    isvc = isvcs("dev")["mistral-7b"]
    (workload,) = workloads_of_object("serving", "objects/serving.yaml", ManifestObject("eksml", isvc))
    assert dict(workload.node_selector) == {POOL_LABEL: "a100-mig"}
    assert workload.gpu_requests == {"nvidia.com/mig-2g.20gb": 1}

def test_registry_model_is_read_from_its_export_in_the_artifacts_bucket_and_says_so():
    isvc = isvcs("dev")["tinyllama"]
    annotations = isvc["metadata"]["annotations"]
    assert annotations["eksml.io/registry-source"] == "mlflow://tinyllama@candidate"
    assert annotations["eksml.io/weights-from"] == "efs-cache (the first replica fetches from s3)"
    # Inside the prefix the kserve-models role may read, so no second grant is needed.
    assert weights_source(isvc).startswith("s3://mlplatform-dev-artifacts/models/")


def test_hub_model_says_it_downloads_from_the_public_hub(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["source"] = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    isvc = {m["metadata"]["name"]: m for m in objects_of(platform_of(edited("dev", tmp_path, edit)),
                                                         "model-serving", "InferenceService")}["tinyllama"]
    assert isvc["metadata"]["annotations"]["eksml.io/weights-from"] == "efs-cache (the first replica fetches from huggingface-hub)"
    assert "eksml.io/registry-source" not in isvc["metadata"]["annotations"]
    assert weights_source(isvc) == "hf://TinyLlama/TinyLlama-1.1B-Chat-v1.0"


def test_models_uri_with_a_version_renders_that_version(tmp_path):
    def edit(data):
        data["serving"]["models"]["tinyllama"]["source"] = "models:/tiny-llama/7"
    isvc = {m["metadata"]["name"]: m for m in objects_of(platform_of(edited("dev", tmp_path, edit)),
                                                         "model-serving", "InferenceService")}["tinyllama"]
    assert weights_source(isvc) == "s3://mlplatform-dev-artifacts/models/registry/tiny-llama/7/"
    assert isvc["metadata"]["annotations"]["eksml.io/registry-source"] == "models:/tiny-llama/7"
