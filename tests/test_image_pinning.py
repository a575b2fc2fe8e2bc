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
