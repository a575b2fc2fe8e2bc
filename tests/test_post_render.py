"""eksml's post-renderer: what it changes in a rendered manifest (data-driven cases), that the real Helm
runs it as a plugin for `helm template`, and that ChatQnA passes Pod Security restricted only with it."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
import yaml

from eksml.charts.kube_yaml import read_manifest
from eksml.charts.post_render import (ALL_PODS, PLUGIN_NAME, Patch, container_patch, helm_flags, patch_manifest,
                                      patches_text, plugin_folder, pod_patch)
from eksml.charts.template import render_release
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.config import load_environment
from eksml.errors import ConfigError
from eksml.k8s.checks.platform_checks import check_rendered_platform
from eksml.k8s.model.components.chatqna_patches import chatqna_patches
from eksml.k8s.model.platform import KubernetesLayer, build_platform
from eksml.k8s.templating.chart_render import render_charts
from eksml.outputs import predict_outputs

DEPLOYMENT = """---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: wait
          image: busybox:1.36
      containers:
        - name: web
          image: web:1.0
          volumeMounts: [{name: tmp, mountPath: /tmp}]
"""
SERVICE = """---
# Source: app/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
"""
ADDED_INIT = {"name": "copy", "command": ["cp"]}

CASES = [
    ("a container patch sets fields on that container only",
     [container_patch("wait", securityContext={"runAsNonRoot": True})],
     lambda spec: spec["initContainers"][0]["securityContext"] == {"runAsNonRoot": True}
     and "securityContext" not in spec["containers"][0]),
    ("a set field replaces what the chart wrote",
     [container_patch("web", image="web:2.0")], lambda spec: spec["containers"][0]["image"] == "web:2.0"),
    ("append extends a list and keeps the chart's items",
     [container_patch("web", append={"volumeMounts": [{"name": "app", "mountPath": "/app"}]})],
     lambda spec: [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["tmp", "app"]),
    ("a pod patch for every pod", [pod_patch(ALL_PODS, automountServiceAccountToken=False)],
     lambda spec: spec["automountServiceAccountToken"] is False),
    ("a pod patch for another workload changes nothing", [pod_patch("api", automountServiceAccountToken=False)],
     lambda spec: "automountServiceAccountToken" not in spec),
    ("an added init container without an image runs the pod's first container's image",
     [pod_patch("web", append={"initContainers": [ADDED_INIT]})],
     lambda spec: spec["initContainers"][1] == {**ADDED_INIT, "image": "web:1.0"}),
    ("a patch naming no container here changes nothing", [container_patch("absent", image="x")],
     lambda spec: spec["containers"][0]["image"] == "web:1.0"),
]


@pytest.mark.parametrize("patches, holds", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_patches_change_the_pod_template_as_documented(patches: list[Patch], holds):
    out = patch_manifest(DEPLOYMENT + SERVICE, patches)
    deployment, service = read_manifest(out)
    assert holds(deployment.body["spec"]["template"]["spec"])
    assert deployment.source == "app/templates/deployment.yaml"  # the heading comment survives
    assert SERVICE in out  # a document no patch touches is kept byte for byte


def test_patches_round_trip_through_the_plugins_file_format():
    for patch in chatqna_patches():
        assert Patch.from_json(patch.to_json()) == patch


def test_the_executable_helm_3_is_given_patches_its_stdin(tmp_path):
    plugins = plugin_folder(tmp_path)
    patches = [pod_patch(ALL_PODS, automountServiceAccountToken=False)]
    (tmp_path / "patches.json").write_text(patches_text(patches))
    flags = helm_flags(plugins, tmp_path / "patches.json", 3)
    assert flags[:1] == ["--post-renderer"] and helm_flags(plugins, tmp_path / "patches.json", 4)[1] == PLUGIN_NAME
    out = subprocess.run([flags[1], flags[3]], input=DEPLOYMENT, capture_output=True, text=True, check=True).stdout
    assert out == patch_manifest(DEPLOYMENT, patches)


def chatqna_release(platform: KubernetesLayer):
    return next(c for c in platform.releases if c.name == OPEA_CHATQNA.name)


def test_helm_runs_the_post_renderer_as_its_plugin(session_charts, session_cache):
    """`helm template --post-renderer` gives what the patches give Helm's plain output."""
    env = load_environment("dev")
    component = chatqna_release(build_platform(env, predict_outputs(env)))
    chart = session_cache.get(_request(component, session_charts.url)).path
    args = (chart, component.name, component.namespace, component.values, env.cluster.kubernetes_version)
    plain = render_release(*args)
    through_helm = render_release(*args, patches=component.patches)
    assert through_helm.manifest != plain.manifest
    expected = [o.body for o in read_manifest(patch_manifest(plain.manifest, component.patches))]
    assert [o.body for o in through_helm.objects()] == expected


def _request(component, mirror):
    from eksml.k8s.templating.chart_render import chart_request

    return chart_request(component, mirror)


def test_without_its_patches_chatqna_breaks_the_restricted_level_its_namespace_enforces(session_charts, session_cache):
    env = load_environment("dev")
    platform = build_platform(env, predict_outputs(env))
    unpatched = dataclasses.replace(platform, components=tuple(
        dataclasses.replace(c, patches=()) if c.name == OPEA_CHATQNA.name else c for c in platform.components))
    charts = render_charts(unpatched, env, cache=session_cache, mirror=session_charts.url)
    with pytest.raises(ConfigError) as refused:
        check_rendered_platform(env, unpatched, charts)
    text = str(refused.value)
    for workload, container in [("opea-chatqna-data-prep", "wait-for-db"), ("opea-chatqna-tei", "model-downloader")]:
        assert f"Deployment {workload}" in text and f"container {container}" in text
    assert "Pod Security 'restricted' that namespace chatqna enforces" in text


def test_chatqna_ui_runs_from_a_copy_of_its_app_on_a_read_only_root(dev_render):
    ui = next(o.body for o in dev_render.charts.release(OPEA_CHATQNA.name).objects
              if o.kind == "Deployment" and o.name.endswith("-chatqna-ui"))
    spec = ui["spec"]["template"]["spec"]
    (copy,), (main,) = spec["initContainers"], spec["containers"]
    assert copy["image"] == main["image"] and copy["command"][-2:] == ["/home/user/svelte/.", "/copy-to"]
    app = next(v for v in spec["volumes"] if v["name"] == "app")
    assert "emptyDir" in app
    assert {"name": "app", "mountPath": "/home/user/svelte"} in main["volumeMounts"]
    assert main["securityContext"]["readOnlyRootFilesystem"] is True and spec["securityContext"]["runAsNonRoot"]
    assert yaml.safe_dump(spec).count("DAC_OVERRIDE") == 0
