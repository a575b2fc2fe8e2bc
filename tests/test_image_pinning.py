"""At prod every image is pinned (a digest or a release tag): untagged, `latest` and moving tags are refused."""

from __future__ import annotations

import pytest

from eksml.charts.kube_yaml import ManifestObject
from eksml.config import load_environment
from eksml.outputs import predict_outputs
from eksml.k8s.checks.image_check import image_issues, mutable_tag
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.model.platform import build_platform
from eksml.k8s.checks.platform_checks import placed_objects


@pytest.mark.parametrize("reference, pinned", [
    ("vllm/vllm-openai:v0.10.1.1", True),
    ("busybox:1.36", True),
    ("ghcr.io/x/y@sha256:" + "a" * 64, True),
    ("registry:5000/team/app:2.4.1", True),
    ("vllm/vllm-openai", False),
    ("registry:5000/team/app", False),
    ("vllm/vllm-openai:latest", False),
    ("nginx:stable", False),
    ("nginx:alpine", False),
    ("x/y:latest-gpu", False),
])
def test_mutable_tags(reference, pinned):
    assert (mutable_tag(reference) is None) is pinned


def test_every_prod_shaped_image_of_dev_is_pinned_and_a_latest_one_is_named(dev_render):
    env = load_environment("dev")
    objects = placed_objects(build_platform(env, predict_outputs(env)), dev_render.charts)
    assert image_issues(objects) == []
    pod = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "mlflow"},
           "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "acme/web:latest"}]}}}}
    [issue] = image_issues([*objects, Placed("mlflow", ManifestObject("t", pod), frozenset(), "manifests/mlflow.yaml")])
    assert issue.file == "manifests/mlflow.yaml" and issue.path == "Deployment mlflow/web"
    assert "acme/web:latest" in issue.message and "moves to each new build" in issue.message


def _settings_map(data: dict[str, str]) -> Placed:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inferenceservice-config", "namespace": "kserve"},
              "data": data}
    return Placed("kserve", ManifestObject("t", config), frozenset(), "manifests/kserve.yaml")


def test_images_a_webhook_adds_from_its_json_settings_are_listed_and_checked(dev_render):
    """KServe's webhook adds the storage initializer, agent and router to model pods from its ConfigMap."""
    from eksml.k8s.checks.images import images_of

    [settings] = [o for o in dev_render.charts.release("kserve").objects if o.kind == "ConfigMap"
                  and o.body["metadata"]["name"] == "inferenceservice-config"]
    found = {i.reference.rsplit(":", 1)[0]: i for i in images_of("kserve", [settings])}
    assert {"kserve/storage-initializer", "kserve/agent", "kserve/router", "kserve/art-explainer"} <= set(found)
    assert all(i.pinned_by.startswith("tag v") for i in found.values())  # explainers: image + defaultImageVersion
    unpinned = _settings_map({
        "storageInitializer": '{"image": "kserve/storage-initializer:latest", "memoryLimit": "1Gi"}',
        "explainers": '{"art": {"image": "kserve/art-explainer", "defaultImageVersion": "nightly"}}',
        "_example": '{"image": "documentation/only:latest"}',
        "notJson": "{not json",
    })
    issues = image_issues([unpinned])
    assert sorted(i.message.split(" runs image ")[1].split(",")[0] for i in issues) == [
        "kserve/art-explainer:nightly", "kserve/storage-initializer:latest"]
