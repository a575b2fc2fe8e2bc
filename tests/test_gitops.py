"""GitOps mode: Argo CD as a component, and an app-of-apps whose Applications carry exactly the values
the helm path installs, valid against the Argo CD chart's own Application CRD."""

from __future__ import annotations

import subprocess

import yaml
from click.testing import CliRunner
from serving_helpers import edited, issues_of, platform_of

from eksml.cli import cli
from eksml.config import load_environment
from eksml.k8s.checks.crd_schema import custom_resource_errors
from eksml.k8s.rendering.gitops import gitops_files
from eksml.kube_tools import helm_binary
from shared_data import SHARED_DIR

ARGO_CD_CHART = SHARED_DIR / "charts" / "argo-cd-10.1.1.tgz"


def application_crd() -> dict:
    """The Application CRD exactly as the chart renders it (its CRDs are templates)."""
    out = subprocess.run([str(helm_binary()), "template", "argocd", str(ARGO_CD_CHART), "-n", "argocd",
                          "--show-only", "templates/crds/crd-application.yaml"],
                         capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(out)


def applications(env_name: str) -> dict[str, dict]:
    env, platform = load_environment(env_name), platform_of(env_name)
    # releases patched after rendering are committed as rendered objects: none are needed here
    files = gitops_files(env, platform, {r.name: [] for r in platform.releases if r.patches})
    return {path: body for path, body in files.items() if isinstance(body, dict) and body.get("kind") == "Application"}


def test_applications_carry_the_helm_paths_values():
    platform = platform_of("staging")
    apps = applications("staging")
    for release in (r for r in platform.releases if not r.patches):
        source = apps[f"apps/{release.name}.yaml"]["spec"]["source"]
        assert source["helm"]["valuesObject"] == release.values, release.name
        assert source["targetRevision"] == release.version
        assert source["helm"]["releaseName"] == release.name
        assert apps[f"apps/{release.name}.yaml"]["spec"]["destination"]["namespace"] == release.namespace


def test_every_application_validates_against_the_argo_cd_crd():
    crd = application_crd()
    for env_name in ("staging", "prod"):
        for path, app in applications(env_name).items():
            assert list(custom_resource_errors(app, crd, "v1alpha1")) == [], path


def test_sync_waves_follow_install_order_and_policy_follows_the_environment():
    platform = platform_of("prod")
    apps = applications("prod")
    waves = [int(apps[f"apps/{r.name}.yaml"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
             for r in platform.releases]
    assert waves == sorted(waves) and len(set(waves)) == len(waves)
    policy = apps["apps/mlflow.yaml"]["spec"]["syncPolicy"]["automated"]
    assert policy == {"prune": False, "selfHeal": True}  # prod prunes by hand
    assert applications("staging")["apps/mlflow.yaml"]["spec"]["syncPolicy"]["automated"]["prune"] is True


def test_owned_objects_are_synced_from_git_after_their_release():
    apps = applications("staging")
    post = apps["apps/model-serving-post.yaml"]
    assert post["spec"]["source"]["path"] == "environments/staging/objects/model-serving/post"
    assert post["spec"]["source"]["repoURL"] == "https://github.com/acme/mlplatform-gitops.git"


def test_argo_cd_is_installed_in_gitops_mode_only_on_the_cpu_pool():
    argocd = platform_of("staging").component("argocd")
    assert argocd.version == "10.1.1"
    assert argocd.values["global"]["nodeSelector"] == {"eksml.io/pool": "cpu"}
    assert "argocd" not in {c.name for c in platform_of("dev").components}


def test_render_gitops_writes_the_folder(tmp_path, cli_charts):
    result = CliRunner().invoke(cli, ["render", "staging", "--gitops", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    root = yaml.safe_load((tmp_path / "out" / "root-app.yaml").read_text())
    assert root["spec"]["source"]["path"] == "environments/staging/apps"
    assert (tmp_path / "out" / "apps" / "kube-prometheus-stack.yaml").is_file()
    # Argo CD has no post-renderer: ChatQnA goes to Git as the patched manifests the checks passed
    chatqna = yaml.safe_load((tmp_path / "out" / "apps" / "opea-chatqna.yaml").read_text())["spec"]["source"]
    assert "helm" not in chatqna and chatqna["path"] == "environments/staging/objects/opea-chatqna/release"
    ui = yaml.safe_load((tmp_path / "out" / "objects" / "opea-chatqna" / "release" /
                         "deployment.chatqna.opea-chatqna-chatqna-ui.yaml").read_text())
    assert [c["name"] for c in ui["spec"]["template"]["spec"]["initContainers"]] == ["copy-app"]


def test_gitops_delivery_needs_its_repository(tmp_path):
    def edit(data):
        del data["gitops"]
    assert "repo_url" in issues_of(edited("staging", tmp_path, edit))["gitops"]


def test_the_crd_check_is_strict():
    app = dict(applications("staging")["apps/mlflow.yaml"])
    app["spec"] = {**app["spec"], "syncPolicy": {"automated": {"prune": True, "selfHeel": True}}}
    assert any("selfHeel" in message for _, message in custom_resource_errors(app, application_crd(), "v1alpha1"))
