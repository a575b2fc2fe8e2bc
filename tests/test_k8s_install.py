"""Install order and the install path, driven through pyhelm3 against a stand-in `helm` executable
(tests/fake_helm/helm) that keeps release state and answers in Helm's formats. Owned objects go to a
recording applier that writes into the same timeline, so ordering across both is visible."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from shipped import with_chart_llm
from eksml.outputs import predict_outputs
from eksml.components import addon_switches
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.errors import ConfigError, StageError
from eksml.k8s.cluster.live import format_changes, release_changes, release_status
from eksml.k8s import InstallEvent, RetryPolicy, install_platform
from eksml.k8s.cluster.install import uninstall_platform
from eksml.k8s.cluster.apply import TransientApplyError
from eksml.k8s.cluster.install import normalise_version
from eksml.k8s.model.records import ObjectRef, RenderedComponent
from eksml.k8s.model.components.chatqna import ChatQnA
from eksml.k8s.model.components.chatqna_patches import chatqna_patches
from eksml.k8s.model.platform import build_platform, check_custom_resources, install_order
from eksml.contract.outputs import AwsOutputs
from eksml.paths import ENVIRONMENTS_DIR

FAKE_HELM_SCRIPT = Path(__file__).resolve().parent / "fake_helm" / "helm"
DEV = with_chart_llm(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
NO_WAIT = RetryPolicy(attempts=4, first_delay_s=0)
KUBECONFIG = str(Path(tempfile.gettempdir()) / "eksml-test-kubeconfig")  # never read: the stand-in helm ignores it


class Timeline:
    """The stand-in helm (`binary`) and its invocation log, shared with the recording applier."""

    def __init__(self, path: Path, binary: str):
        self.path = path
        self.binary = binary

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def helm(self, command: str) -> list[dict]:
        return [e for e in self.entries() if "argv" in e and e["argv"][0] == command]

    def upgraded(self) -> list[str]:
        return [e["argv"][1] for e in self.helm("upgrade")]

    def position(self, predicate) -> int:
        return next(i for i, e in enumerate(self.entries()) if predicate(e))

    def upgrade_at(self, release: str) -> int:
        return self.position(lambda e: e.get("argv", [""])[:2] == ["upgrade", release])

    def apply_at(self, kind: str, name: str) -> int:
        return self.position(lambda e: e.get("apply", "").startswith(kind + " ") and e["apply"].endswith(name))


class RecordingApplier:
    """Stands in for the API server: records applies and deletes; a synced Secret exists once its
    ExternalSecret does."""

    def __init__(self, timeline: Timeline, sync_secrets: bool = True, failures: dict[str, list[Exception]] | None = None):
        self.timeline, self.sync_secrets = timeline, sync_secrets
        self.failures = failures or {}
        self.applied: list[dict] = []
        self.live: set[ObjectRef] = set()

    def _log(self, entry: dict) -> None:
        with self.timeline.path.open("a") as log:
            log.write(json.dumps(entry) + "\n")

    def apply(self, manifest: dict) -> None:
        ref = str(ObjectRef.of(manifest))
        pending = self.failures.get(ref)
        if pending:
            raise pending.pop(0)
        self.applied.append(manifest)
        self.live.add(ObjectRef.of(manifest))
        self._log({"apply": ref})

    def delete(self, ref: ObjectRef) -> bool:
        if ref not in self.live:
            return False
        self.live.discard(ref)
        self._log({"delete": str(ref)})
        return True

    def exists(self, ref: ObjectRef) -> bool:
        if ref.kind != "Secret":
            return ref in self.live
        return self.sync_secrets and any(
            m["kind"] == "ExternalSecret" and m["spec"]["target"]["name"] == ref.name
            and m["metadata"]["namespace"] == ref.namespace for m in self.applied)


@pytest.fixture(scope="module")
def fake_helm_launcher(tmp_path_factory) -> str:
    """The stand-in run by this interpreter without `site`: its shebang's python3 may be a pyenv shim,
    which doubles the start-up of each of the hundreds of helm calls here."""
    launcher = tmp_path_factory.mktemp("fake-helm") / "helm"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{FAKE_HELM_SCRIPT}" "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


@pytest.fixture
def helm(tmp_path, monkeypatch, fake_helm_launcher):
    monkeypatch.setenv("FAKE_HELM_STATE", str(tmp_path / "helm-state.json"))
    monkeypatch.setenv("FAKE_HELM_LOG", str(tmp_path / "helm-log.jsonl"))
    monkeypatch.setenv("FAKE_HELM_SCENARIO", str(tmp_path / "helm-scenario.json"))
    return Timeline(tmp_path / "helm-log.jsonl", fake_helm_launcher)


def scenario(tmp_path: Path, **content) -> None:
    (tmp_path / "helm-scenario.json").write_text(json.dumps(content))


def helm_state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "helm-state.json").read_text())


def applied_outputs(env: Environment, **changes) -> AwsOutputs:
    return dataclasses.replace(predict_outputs(env), predicted=False, vpc_id="vpc-0123", **changes)


SMALL_ENV_RELEASES = ("external_secrets", "karpenter", "mlflow")


def small_env() -> Environment:
    """dev with three releases (external-secrets, karpenter, mlflow): the install path, quickly."""
    data = copy.deepcopy(DEV)
    for addon in addon_switches():
        if addon not in SMALL_ENV_RELEASES:
            data["addons"].setdefault(addon, {})["enabled"] = False
    return Environment.model_validate(data)


def install(env, helm_timeline, outputs=None, events=None, applier=None, **kwargs):
    return install_platform(
        env, outputs or applied_outputs(env), Path(KUBECONFIG), "eksml-test", (events.append if events is not None else None),
        helm=helm_timeline.binary, applier=applier or RecordingApplier(helm_timeline), retry=kwargs.pop("retry", NO_WAIT),
        secret_poll_s=0, **kwargs,
    )


# -- order (no helm needed) ----------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ["local", "dev", "staging", "prod"])
def test_install_order_respects_every_dependency(env_name):
    env = load_environment(env_name)
    components = build_platform(env, predict_outputs(env)).components
    position = {c.name: i for i, c in enumerate(components)}
    assert components[0].name == "cluster-baseline"
    for component in components:
        for dep in component.depends_on:
            assert position[dep] < position[component.name], (dep, component.name)
    for before, after in [("cert-manager", "kserve"), ("kserve-crd", "kserve"), ("kserve", "kserve-runtime-configs"),
                          ("external-secrets", "mlflow"), ("kube-prometheus-stack", "gpu-operator"),
                          ("gpu-operator", "opea-chatqna")]:
        assert position[before] < position[after], (before, after)


def _component(name, depends_on=(), prerequisites=(), objects=(), provides=()):
    return RenderedComponent(name, "ns", None, None, {}, tuple(depends_on), tuple(prerequisites), tuple(objects), tuple(provides))


def test_install_order_rejects_cycles_and_unknown_dependencies():
    with pytest.raises(ValueError, match="cycle"):
        install_order([_component("a", ["b"]), _component("b", ["a"])])
    with pytest.raises(ValueError, match="unknown"):
        install_order([_component("a", ["nope"])])


def test_custom_resources_need_their_crd_installed_first():
    node_pool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "p"}}
    karpenter = _component("karpenter", provides=["karpenter.sh"], objects=[node_pool])
    check_custom_resources([karpenter])  # after its own release: fine
    too_early = _component("karpenter", provides=["karpenter.sh"], prerequisites=[node_pool])
    with pytest.raises(ValueError, match="not installed before it"):
        check_custom_resources([too_early])
    unrelated = _component("other", prerequisites=[node_pool])  # CRD provider not among its dependencies
    with pytest.raises(ValueError, match="not installed before it"):
        check_custom_resources([_component("karpenter", provides=["karpenter.sh"]), unrelated])


# -- install path ---------------------------------------------------------------------------------


def test_install_path_with_stand_in_helm_installs_every_release_in_dependency_order(helm, tmp_path):
    env = load_environment("dev")
    outputs = applied_outputs(env)
    platform = build_platform(env, outputs)
    events: list[InstallEvent] = []
    result = install(env, helm, outputs, events)

    assert helm.upgraded() == [c.name for c in platform.releases]
    assert result.order == tuple(c.name for c in platform.components)
    for call, component in zip(helm.helm("upgrade"), platform.releases):
        argv = call["argv"]
        assert argv[2] == component.chart.ref
        assert "--atomic" in argv and "--wait" in argv and "--create-namespace" in argv
        assert argv[argv.index("--timeout") + 1] == component.timeout
        assert argv[argv.index("--version") + 1] == component.version
        assert argv[argv.index("--namespace") + 1] == component.namespace
        assert argv[argv.index("--kubeconfig") + 1] == KUBECONFIG
        assert argv[argv.index("--kube-context") + 1] == "eksml-test"
        assert ("--repo" in argv) == (component.chart.repo is not None)
        assert json.loads(call["stdin"]) == component.values  # the rendered values, exactly
        assert ("--post-renderer" in argv) == bool(component.patches), component.name  # as render ran it
    assert all(o.changed and o.revision == 1 and o.attempts == 1 for o in result.releases)
    assert result.objects_applied == sum(len(c.prerequisites) + len(c.objects) for c in platform.components)

    first_upgrade = helm.upgrade_at("cert-manager")
    assert helm.apply_at("Namespace", "mlflow") < first_upgrade
    assert helm.apply_at("ExternalSecret", "mlflow/mlflow-db") < helm.upgrade_at("mlflow")
    assert helm.upgrade_at("external-secrets") < helm.apply_at("ExternalSecret", "mlflow/mlflow-db")
    assert helm.upgrade_at("karpenter") < helm.apply_at("NodePool", "gpu-workloads")
    assert helm.upgrade_at("karpenter") < helm.apply_at("EC2NodeClass", "gpu-workloads")
    assert helm.apply_at("ConfigMap", "gpu-operator/eksml-mig-parted-config") < helm.upgrade_at("gpu-operator")
    assert helm.upgrade_at("kube-prometheus-stack") < helm.apply_at("PrometheusRule", "monitoring/eksml-platform-alerts")
    assert helm.upgrade_at("cert-manager") < helm.upgrade_at("kserve")
    assert [e.phase for e in events if e.component == "mlflow"] == ["start", "applied", "installed", "done"]


def chatqna_only() -> Environment:
    data = copy.deepcopy(DEV)
    for addon in addon_switches():
        data["addons"].setdefault(addon, {})["enabled"] = addon == "opea_chatqna"
    return Environment.model_validate(data)


def test_a_patched_release_installs_through_the_post_renderer_and_upgrades_when_only_its_patches_change(
        helm, tmp_path, monkeypatch):
    env = chatqna_only()
    install(env, helm)
    (call,) = helm.helm("upgrade")  # the stand-in is Helm 3 unless told: the renderer is an executable's path
    assert call["argv"][call["argv"].index("--post-renderer") + 1].endswith("/eksml-post-render/post-render")
    assert install(env, helm).releases[0].changed is False  # same chart, values and patches
    scenario(tmp_path, helm_version="v4.1.4")  # Helm 4 takes the plugin's name (the stand-in checks HELM_PLUGINS)
    monkeypatch.setattr(ChatQnA, "patches", lambda self, ctx: chatqna_patches()[1:])
    install(env, helm)
    last = helm.helm("upgrade")[-1]["argv"]
    assert last[last.index("--post-renderer") + 1] == "eksml-post-render"
    plugins_before = os.environ.get("HELM_PLUGINS")
    monkeypatch.setattr(ChatQnA, "patches", lambda self, ctx: chatqna_patches()[:1])  # chart and values as before
    assert install(env, helm).releases[0].changed is True
    assert os.environ.get("HELM_PLUGINS") == plugins_before  # install leaves the process as it found it


def test_install_path_with_stand_in_helm_changes_nothing_the_second_time(helm, tmp_path):
    env = small_env()
    install(env, helm)
    upgrades = len(helm.upgraded())
    result = install(env, helm)
    assert len(helm.upgraded()) == upgrades  # same chart, same values: no new revision
    assert [o.changed for o in result.releases] == [False, False, False]
    assert {o.revision for o in result.releases} == {1}


def test_install_path_with_stand_in_helm_retries_transient_errors_with_backoff(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["transient", "transient"]})
    env = small_env()
    events: list[InstallEvent] = []
    result = install(env, helm, events=events, retry=RetryPolicy(attempts=3, first_delay_s=0.05, factor=2))
    assert helm.upgraded().count("mlflow") == 3
    retries = [e for e in events if e.phase == "retry"]
    assert [(e.component, e.attempt) for e in retries] == [("mlflow", 1), ("mlflow", 2)]
    assert "connection refused" in retries[0].message and "retry in 0.05s" in retries[0].message
    assert "retry in 0.1s" in retries[1].message
    mlflow = next(o for o in result.releases if o.name == "mlflow")
    assert (mlflow.attempts, mlflow.revision) == (3, 1)


def test_install_path_with_stand_in_helm_gives_up_after_the_last_attempt(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["transient"] * 4})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm, retry=RetryPolicy(attempts=4, first_delay_s=0))
    assert caught.value.stage == "install" and caught.value.resource == "helm release mlflow/mlflow"
    assert "cluster unreachable" in str(caught.value)
    assert helm.upgraded().count("mlflow") == 4


def test_install_path_with_stand_in_helm_reports_an_atomic_rollback(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["ok", "fail"]})
    env = small_env()
    install(env, helm)
    changed = applied_outputs(env, db_endpoint="mlflow-new.abc.us-east-1.rds.amazonaws.com")
    with pytest.raises(StageError) as caught:
        install(env, helm, changed)
    assert "rolled back due to atomic being set" in str(caught.value)
    assert "release is at deployed revision 3" in str(caught.value)
    history = helm_state(tmp_path)["releases"]["mlflow/mlflow"]
    assert [r["status"] for r in history] == ["superseded", "failed", "deployed"]
    assert history[-1]["values"]["backendStore"]["postgres"]["host"] != "mlflow-new.abc.us-east-1.rds.amazonaws.com"


def test_install_path_with_stand_in_helm_rolls_back_a_release_left_pending(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["ok", "stuck"]})
    env = small_env()
    install(env, helm)
    events: list[InstallEvent] = []
    with pytest.raises(StageError) as caught:
        install(env, helm, applied_outputs(env, db_port=5433), events)
    assert "rolled back; now at revision 3" in str(caught.value)
    assert [c["argv"][1] for c in helm.helm("rollback")] == ["mlflow"]
    assert any(e.phase == "rolled back" and e.component == "mlflow" for e in events)
    history = helm_state(tmp_path)["releases"]["mlflow/mlflow"]
    assert history[-1]["status"] == "deployed" and history[-1]["description"] == "Rollback to 1"
    assert history[-1]["values"]["backendStore"]["postgres"]["port"] == 5432


def test_install_path_with_stand_in_helm_recovers_from_an_interrupted_earlier_run(helm, tmp_path):
    env = small_env()
    install(env, helm)
    state_path = tmp_path / "helm-state.json"
    state = helm_state(tmp_path)  # simulate a run killed mid-upgrade: revision 2 left pending
    state["releases"]["mlflow/mlflow"].append({**state["releases"]["mlflow/mlflow"][0], "revision": 2,
                                               "status": "pending-upgrade", "description": "Preparing upgrade"})
    state_path.write_text(json.dumps(state))
    result = install(env, helm, applied_outputs(env, db_port=5433))
    mlflow = next(o for o in result.releases if o.name == "mlflow")
    assert mlflow.changed and mlflow.revision == 4  # rolled back to 1 as revision 3, then upgraded
    assert [c["argv"][1] for c in helm.helm("rollback")] == ["mlflow"]


def test_install_path_with_stand_in_helm_removes_a_failed_first_install(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["fail"]})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm)
    assert "nothing was left installed" in str(caught.value)
    assert "mlflow/mlflow" not in helm_state(tmp_path)["releases"]


def test_install_path_with_stand_in_helm_refuses_a_chart_version_other_than_the_pinned_one(helm, tmp_path):
    scenario(tmp_path, chart_versions={"karpenter": "1.14.0"})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm)
    assert "resolved to version 1.14.0, but the environment pins 1.14.1" in str(caught.value)
    assert helm.upgraded() == ["external-secrets"]  # stopped before karpenter and everything after it


def test_install_path_with_stand_in_helm_checks_the_installed_version(helm, tmp_path):
    scenario(tmp_path, installed_versions={"mlflow": "1.11.4"})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm)
    assert "installed chart version is 1.11.4, but the environment pins 1.11.5" in str(caught.value)
    assert normalise_version("v26.7.0") == normalise_version("26.7.0")


def test_install_path_with_stand_in_helm_waits_for_the_database_secret(helm, tmp_path):
    with pytest.raises(StageError) as caught:
        install(small_env(), helm, applier=RecordingApplier(helm, sync_secrets=False), secret_wait_s=0)
    assert caught.value.resource == "Secret mlflow/mlflow-db"
    assert "mlflow" not in helm.upgraded()


def test_install_path_with_stand_in_helm_retries_transient_apply_errors(helm, tmp_path):
    ref = "Namespace karpenter"
    applier = RecordingApplier(helm, failures={ref: [TransientApplyError("HTTP 503"), TransientApplyError("HTTP 503")]})
    events: list[InstallEvent] = []
    install(small_env(), helm, events=events, applier=applier)
    assert [e.message.split(":")[0] for e in events if e.phase == "retry"] == [f"apply {ref}"] * 2

    failing = RecordingApplier(helm, failures={ref: [ValueError("forbidden: namespaces is immutable")]})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm, applier=failing)
    assert caught.value.resource == ref


def test_install_refuses_predicted_outputs_and_bad_input_before_touching_anything(helm, tmp_path):
    env = small_env()
    applier = RecordingApplier(helm)
    with pytest.raises(StageError, match="predicted"):
        install(env, helm, predict_outputs(env), applier=applier)
    data = copy.deepcopy(DEV)
    data["genai"]["chatqna"]["llm_gpu"] = {"mig_profile": "4g.40gb"}
    bad = Environment.model_validate(data)
    with pytest.raises(ConfigError):
        install(bad, helm, applier=applier)
    assert helm.entries() == [] and applier.applied == []


def test_install_without_helm_is_an_operational_error(helm, tmp_path):
    with pytest.raises(StageError) as caught:
        install_platform(small_env(), applied_outputs(small_env()), None, None, helm=str(tmp_path / "no-helm"),
                         applier=RecordingApplier(helm), retry=NO_WAIT)
    assert caught.value.stage == "install" and "helm" in str(caught.value)


def test_uninstall_path_with_stand_in_helm_removes_everything_in_reverse(helm, tmp_path):
    env = small_env()
    outputs = applied_outputs(env)
    applier = RecordingApplier(helm)
    install(env, helm, outputs, applier=applier)
    events: list[InstallEvent] = []
    removed = uninstall_platform(env, Path(KUBECONFIG), "eksml-test", events.append, outputs=outputs, helm=helm.binary,
                                 applier=applier, retry=NO_WAIT, poll_s=0, wait_s=0)
    assert removed == ["mlflow", "karpenter", "external-secrets"]
    assert [c["argv"][1] for c in helm.helm("uninstall")] == removed
    assert helm_state(tmp_path)["releases"] == {}
    assert applier.live == set()  # every owned object deleted

    def deleted_at(ref: str) -> int:
        return helm.position(lambda e: e.get("delete") == ref)

    def uninstalled_at(release: str) -> int:
        return helm.position(lambda e: e.get("argv", [""])[:2] == ["uninstall", release])

    # Team namespaces first, while the controllers that clean up after their workloads still run.
    assert deleted_at("Namespace research") < uninstalled_at("mlflow")
    # NodePools while Karpenter still runs to drain and terminate their nodes.
    assert deleted_at("NodePool gpu-workloads") < uninstalled_at("karpenter")
    assert deleted_at("Namespace karpenter") > uninstalled_at("external-secrets")
    assert uninstall_platform(env, None, None, outputs=outputs, helm=helm.binary, applier=applier, retry=NO_WAIT,
                              poll_s=0, wait_s=0) == []  # nothing left: nothing to do


# -- status (read-only) -------------------------------------------------------------------------------


def test_release_status_with_stand_in_helm_reports_revision_and_health(helm, tmp_path):
    env = small_env()
    outputs = applied_outputs(env)
    releases = [c.name for c in build_platform(env, outputs).releases]
    before = release_status(env, outputs, Path(KUBECONFIG), "eksml-test", helm=helm.binary)
    assert [r.release for r in before] == releases
    assert {r.status for r in before} == {"not installed"} and not any(r.healthy for r in before)

    install(env, helm, outputs)
    state_path = tmp_path / "helm-state.json"  # a later run killed mid-upgrade left mlflow pending
    state = helm_state(tmp_path)
    state["releases"]["mlflow/mlflow"].append({**state["releases"]["mlflow/mlflow"][0], "revision": 2,
                                               "status": "pending-upgrade"})
    state_path.write_text(json.dumps(state))
    after = {r.release: r for r in release_status(env, outputs, Path(KUBECONFIG), "eksml-test", helm=helm.binary)}
    assert after["mlflow"].revision == 2 and after["mlflow"].status == "pending-upgrade"
    assert not after["mlflow"].healthy
    others = [after[name] for name in releases if name != "mlflow"]
    assert all(r.healthy and r.revision == 1 and r.installed == r.pinned for r in others)
    assert len(helm.helm("upgrade")) == len(releases)  # status changed nothing


def test_release_status_with_stand_in_helm_flags_a_chart_other_than_the_pinned_one(helm, tmp_path):
    scenario(tmp_path, installed_versions={"mlflow": "0.0.1"})
    env = small_env()
    outputs = applied_outputs(env)
    with pytest.raises(StageError):
        install(env, helm, outputs)  # the install path itself refuses it ...
    mlflow = next(r for r in release_status(env, outputs, None, None, helm=helm.binary) if r.release == "mlflow")
    assert (mlflow.status, mlflow.installed) == ("deployed", "0.0.1")
    assert not mlflow.healthy  # ... and status does not call it healthy either


def test_release_changes_with_stand_in_helm_show_what_a_deploy_would_change(helm, tmp_path):
    env = small_env()
    outputs = applied_outputs(env)
    releases = [c.name for c in build_platform(env, outputs).releases]
    assert {c.action for c in release_changes(env, outputs, None, None, helm=helm.binary)} == {"install"}

    install(env, helm, outputs)
    assert {c.action for c in release_changes(env, outputs, None, None, helm=helm.binary)} == {"none"}

    moved = applied_outputs(env, db_endpoint="mlflow-new.abc.us-east-1.rds.amazonaws.com")
    changes = {c.release: c for c in release_changes(env, moved, None, None, helm=helm.binary)}
    assert changes["mlflow"].action == "update values"
    diff = changes["mlflow"].values_diff.splitlines()
    assert any(line.startswith("-") and outputs.db_endpoint in line for line in diff)
    assert any(line.startswith("+") and "mlflow-new.abc.us-east-1.rds.amazonaws.com" in line for line in diff)
    assert all(changes[name].action == "none" for name in releases if name != "mlflow")
    assert "1 of 3 would change" in format_changes(list(changes.values()))
    assert len(helm.helm("upgrade")) == len(releases)  # planning changed nothing
