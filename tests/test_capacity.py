"""`eksml capacity`: the slices each shipped pool offers, computed by hand from the environment files
and the catalog, the rendered pods' demand, team quotas, and the validate-time error for a pod that
cannot fit even at max size."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.capacity import capacity_report
from eksml.cli import cli
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.paths import ENVIRONMENTS_DIR

DEV = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
MIG_3G, MIG_2G, MIG_1G, GPU = "nvidia.com/mig-3g.40gb", "nvidia.com/mig-2g.20gb", "nvidia.com/mig-1g.10gb", "nvidia.com/gpu"

# Hand-computed from environments/*.yaml and eksml/catalog/instance_types.json:
# p4d.24xlarge, p4de.24xlarge and p5.48xlarge carry 8 GPUs; the largest type of g5/g6e/p4d has 8.
# (pool, resource) -> (min, desired, max) slices.
EXPECTED_SLICES = {
    "dev": {
        ("a100-timeslice", GPU): (0, 32, 64),      # 8 GPUs x 4 replicas = 32 per node; nodes 0/1/2
        ("a100-mig", MIG_3G): (0, 8, 16),          # layout has one 3g.40gb: 8 GPUs x 1 per node; nodes 0/1/2
        ("a100-mig", MIG_2G): (0, 8, 16),          # one 2g.20gb per GPU: 8 per node
        ("a100-mig", MIG_1G): (0, 16, 32),         # two 1g.10gb per GPU: 8 x 2 = 16 per node
        ("h100", GPU): (0, 16, 32),                # 8 GPUs x 2 replicas = 16 per node; nodes 0/1/2
        ("gpu-workloads", GPU): (0, 0, 16),        # Karpenter: 0 nodes until asked; gpu_limit 16 whole GPUs
    },
    "staging": {
        ("a100-timeslice", GPU): (0, 32, 64),
        ("a100-mig", MIG_3G): (0, 8, 16),
        ("a100-mig", MIG_2G): (0, 8, 16),
        ("a100-mig", MIG_1G): (0, 16, 32),
        ("h100", GPU): (0, 16, 32),
        ("gpu-workloads", GPU): (0, 0, 16),
    },
    "prod": {
        ("a100-timeslice", GPU): (0, 32, 64),
        ("a100-mig", MIG_3G): (0, 8, 16),
        ("a100-mig", MIG_2G): (0, 8, 16),
        ("a100-mig", MIG_1G): (0, 16, 32),
        ("h100", GPU): (0, 16, 32),
        ("gpu-workloads", GPU): (0, 0, 16),
    },
    "local": {
        ("a100-timeslice", GPU): (0, 32, 32),      # max_size 1: 1 x 32
        ("a100-mig", MIG_3G): (0, 8, 8),
        ("a100-mig", MIG_2G): (0, 8, 8),
        ("a100-mig", MIG_1G): (0, 16, 16),
        ("h100", GPU): (0, 16, 16),
        ("gpu-workloads", GPU): (0, 0, 4),         # gpu_limit 4, although its largest node has 8
    },
}
# (pool, resource) -> units the rendered pods ask for at their declared replicas.
EXPECTED_DEMAND = {
    # ChatQnA calls KServe's mistral-7b (llm_from_serving): no 3g.40gb for a vLLM of its own.
    "dev": {("a100-mig", MIG_2G): 2,               # mistral-7b and its canary: 1 replica each x 2g.20gb
            ("a100-timeslice", GPU): 0},           # tinyllama: autoscaling min 0 (scales to zero; max 2)
    "staging": {("a100-mig", MIG_3G): 1,
                ("a100-mig", MIG_2G): 2 + 2,       # mistral-7b replicas 2, its canary as many (minReplicas 2)
                ("a100-timeslice", GPU): 1},
    "prod": {("a100-mig", MIG_3G): 1 + 2},         # ChatQnA 1 + mistral-7b 2 replicas x 3g.40gb
    "local": {("a100-mig", MIG_3G): 1, ("a100-timeslice", GPU): 1},
}
# team -> (gpu_quota, nvidia.com/gpu all pools advertise at desired, at max)
EXPECTED_TEAMS = {
    "dev": {"research": (8, 32 + 16 + 0, 64 + 32 + 16), "inference": (4, 48, 112)},
    "prod": {"research": (8, 48, 112), "inference": (16, 48, 112)},
    "local": {"research": (4, 32 + 16 + 0, 32 + 16 + 4)},
}


@pytest.fixture(scope="module")
def reports():
    return {name: capacity_report(load_environment(name)) for name in EXPECTED_SLICES}


def slices(report, pool: str, resource: str) -> tuple:
    supply = report.supply(pool)
    return tuple((supply.total(size) or {}).get(resource) for size in ("min", "desired", "max"))


@pytest.mark.parametrize("env_name", sorted(EXPECTED_SLICES))
def test_slices_per_pool_at_min_desired_and_max(reports, env_name):
    report = reports[env_name]
    for (pool, resource), expected in EXPECTED_SLICES[env_name].items():
        assert slices(report, pool, resource) == expected, (pool, resource)
    offered = {(s.name, r) for s in report.supplies for r in s.per_node}
    assert offered == set(EXPECTED_SLICES[env_name])  # nothing offered that the table does not name


def test_staging_demand_counts_replicas(reports):
    staging = load_environment("staging")
    assert staging.serving.models["mistral-7b"].replicas == 2  # the premise of the staging expectation


@pytest.mark.parametrize("env_name", sorted(EXPECTED_DEMAND))
def test_demand_of_the_rendered_pods(reports, env_name):
    report = reports[env_name]
    found = {(load.supply.name, resource): units for load in report.loads for resource, units in load.demand.items()}
    assert found == EXPECTED_DEMAND[env_name]
    assert report.findings == ()


@pytest.mark.parametrize("env_name", sorted(EXPECTED_TEAMS))
def test_team_quotas_against_what_the_pools_advertise(reports, env_name):
    found = {q.team: (q.gpu_quota, q.offered["desired"], q.offered["max"]) for q in reports[env_name].quotas}
    assert found == EXPECTED_TEAMS[env_name]


def test_nominal_memory_per_slice(reports):
    dev = reports["dev"]
    assert dev.supply("a100-timeslice").memory_gb == {GPU: 10.0}  # A100 40GB / 4 replicas
    assert dev.supply("h100").memory_gb == {GPU: 40.0}  # H100 80GB / 2 replicas
    assert dev.supply("a100-mig").memory_gb == {MIG_3G: 40.0, MIG_2G: 20.0, MIG_1G: 10.0}  # 4, 2, 1 of 8 memory slices x 80


def changed(change) -> Environment:
    data = copy.deepcopy(DEV)
    change(data)
    return Environment.model_validate(data)


def test_a_mig_layout_change_changes_the_slices():
    def to_sevenths(data):
        data["node_pools"]["a100-mig"]["mig"]["layout"] = ["1g.10gb"] * 7
        data["genai"]["chatqna"]["enabled"] = False
        data["serving"]["models"]["mistral-7b"]["mig_profile"] = "1g.10gb"
        data["serving"]["models"]["mistral-7b"]["size_gb"] = 5
        del data["serving"]["models"]["mistral-7b"]["canary"]

    report = capacity_report(changed(to_sevenths))
    # 7 x 1g.10gb per GPU x 8 GPUs = 56 per node; nodes 0/1/2
    assert slices(report, "a100-mig", MIG_1G) == (0, 56, 112)
    assert set(report.supply("a100-mig").per_node) == {MIG_1G}


def test_a_quota_beyond_capacity_is_reported():
    report = capacity_report(changed(lambda d: d["teams"].update(research={"gpu_quota": 200})))
    # the pools advertise 32 + 16 + 16 + 64 ... at max: 64 + 32 + 16 = 112 nvidia.com/gpu < 200
    messages = [f for f in report.findings if f.subject == "team research"]
    assert len(messages) == 1 and messages[0].severity == "warning"
    assert "200" in messages[0].message and "112" in messages[0].message
    assert messages[0].field == "teams.research.gpu_quota"
    assert any(f.subject == "teams" and "204" in f.message for f in report.findings)  # 200 + 4 > 48 at desired


def test_pods_beyond_desired_size_are_over_subscription_not_an_error():
    # mistral-7b 5 replicas of 2g.20gb + its canary as many = 10 > 8 per node: 2 nodes, desired 1, max 2
    report = capacity_report(changed(lambda d: d["serving"]["models"]["mistral-7b"].update(replicas=5)))
    assert report.load("a100-mig").nodes_needed == 2
    assert [(f.severity, f.field) for f in report.findings] == [("warning", "node_pools.a100-mig.desired_size")]


def write(tmp_path: Path, change) -> Path:
    data = copy.deepcopy(DEV)
    change(data)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_validate_refuses_pods_that_fit_not_even_at_max_size(tmp_path):
    # 20 replicas + the canary's 20 = 40 x 2g.20gb; 8 per node, max 2 nodes = 16: needs ceil(40 / 8) = 5
    path = write(tmp_path, lambda d: d["serving"]["models"]["mistral-7b"].update(replicas=20))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: node_pools.a100-mig.max_size" in result.output
    assert "needs 5 nodes" in result.output and "at most 2" in result.output
    assert "Traceback" not in result.output


def test_cli_text_json_and_markdown():
    runner = CliRunner()
    text = runner.invoke(cli, ["capacity", "dev"])
    assert text.exit_code == 0, text.output
    assert "a100-mig" in text.output and "mig-3g.40gb" in text.output and "research" in text.output
    data = json.loads(runner.invoke(cli, ["capacity", "dev", "--output", "json"]).output)
    pools = {p["name"]: p for p in data["pools"]}
    assert pools["a100-mig"]["total"]["max"][MIG_1G] == 32  # 16 per node x max 2
    markdown = runner.invoke(cli, ["capacity", "dev", "--output", "markdown"]).output
    assert markdown.startswith("### Capacity of `dev`") and "| a100-timeslice |" in markdown


def test_unknown_environment_is_bad_input():
    result = CliRunner().invoke(cli, ["capacity", "nowhere"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_real_chart_render_gives_the_same_demand(dev_render):
    """The real charts' manifests (Deployments, InferenceServices) place the same GPU pods."""
    report = capacity_report(load_environment("dev"), placements=dev_render.placements)
    found = {(load.supply.name, resource): units for load in report.loads for resource, units in load.demand.items()}
    assert found == EXPECTED_DEMAND["dev"]


@pytest.mark.parametrize("node, owner, expected", [
    ({}, None, (1, None)),
    ({"replicaCount": 3}, None, (3, None)),
    ({"replicaCount": 2, "autoscaling": {"enabled": True, "maxReplicas": 6}}, None, (2, 6)),
    ({"replicaCount": 2, "autoscaling": {"enabled": False, "maxReplicas": 6}}, None, (2, None)),
    ({"minReplicas": 1, "maxReplicas": 4}, None, (1, 4)),  # a KServe predictor
    ({"containers": []}, {"replicas": 5}, (5, None)),  # a Deployment's pod spec and its spec
])
def test_replica_counts(node, owner, expected):
    from eksml.k8s.model.replicas import replica_counts

    assert replica_counts(node, owner) == expected


# Monthly cost at desired size, by hand from prices.json (us-east-1) and the environment files:
# p4d.24xlarge 21.957642, p4de.24xlarge 27.44705, p5.48xlarge 55.04 USD/h; EKS standard 0.10; NAT 0.045;
# db.t4g.medium 0.065, db.t4g.micro 0.016; EFS 100 GB x 0.30; S3 3 buckets x 100 GB x 0.023; 730 h a month.
# m5 (the cpu pools), db.r6g.large and spot are not in the table: not priced.
GPU_NODES_AT_DESIRED = 21.957642 + 27.44705 + 55.04  # one node each of a100-timeslice, a100-mig, h100
STORAGE_MONTH = 100 * 0.30 + 3 * 100 * 0.023  # 30.00 + 6.90
EXPECTED_MONTHLY_AT_DESIRED = {
    "dev": (GPU_NODES_AT_DESIRED + 0.10 + 1 * 0.045 + 0.065) * 730 + STORAGE_MONTH,        # 76,434.83
    "staging": (GPU_NODES_AT_DESIRED + 0.10 + 3 * 0.045) * 730 + STORAGE_MONTH,           # 3 AZs, one NAT each
    "prod": (GPU_NODES_AT_DESIRED + 0.10 + 3 * 0.045) * 730 + STORAGE_MONTH,
    "local": (GPU_NODES_AT_DESIRED + 0.10 + 1 * 0.045 + 0.016) * 730 + STORAGE_MONTH,
}
EXPECTED_NOT_PRICED = {
    "dev": {"pool cpu", "pool training-workloads"},
    "staging": {"pool cpu", "pool training-workloads", "MLflow database"},
    "prod": {"pool cpu", "pool training-workloads", "MLflow database"},
    "local": {"pool cpu", "pool gpu-workloads"},  # g5/g6e only: no 8-GPU type of theirs is priced
}


@pytest.fixture
def standard_support_day(monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-12-01")  # 1.35 is in standard support until 2027-03-27


@pytest.mark.parametrize("env_name", sorted(EXPECTED_MONTHLY_AT_DESIRED))
def test_monthly_cost_at_desired_size(standard_support_day, env_name):
    cost = capacity_report(load_environment(env_name)).cost
    assert cost.total_per_month("desired") == pytest.approx(EXPECTED_MONTHLY_AT_DESIRED[env_name], abs=0.05)
    assert {line.item for line in cost.not_priced} == EXPECTED_NOT_PRICED[env_name]


def test_pool_cost_at_min_desired_and_max(standard_support_day):
    cost = capacity_report(load_environment("dev")).cost
    assert cost.line("pool a100-mig").usd_per_hour == pytest.approx({"min": 0, "desired": 27.44705, "max": 2 * 27.44705})
    # Karpenter: no node until asked; at max its gpu_limit 16 / 8 GPUs = 2 nodes of its priced 8-GPU type (p4d)
    karpenter = cost.line("pool gpu-workloads")
    assert karpenter.usd_per_hour == pytest.approx({"min": 0, "desired": 0, "max": 2 * 21.957642})
    assert "upper bound" in karpenter.basis
    assert karpenter.source.startswith("https://") and karpenter.date == "2026-11-09"


def test_extended_support_costs_six_times_the_control_plane(monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2027-06-01")  # 1.35: standard support ended 2027-03-27
    line = capacity_report(load_environment("dev")).cost.line("EKS control plane")
    assert line.usd_per_hour["desired"] == 0.60 and "extended" in line.basis


def test_spot_is_not_priced():
    report = capacity_report(changed(lambda d: d["node_pools"]["h100"].update(capacity_type="SPOT")))
    line = report.cost.line("pool h100")
    assert line.usd_per_hour == {} and "spot is not priced" in line.not_priced


def test_catalog_shows_every_price_with_source_and_date():
    from eksml.catalog.prices import load_price_table

    output = CliRunner().invoke(cli, ["catalog"]).output
    for region, item, price in load_price_table().rows():
        row = next(line for line in output.splitlines() if f" {item} " in line and region in line)
        assert price.source in row and price.date in row
    assert "EKS control plane (extended support)" in output


def test_a_price_without_source_or_date_is_refused():
    from eksml.catalog.prices import build_price_table

    good = {"usd_per_hour": 1.0, "source": "https://example.org/p", "date": "2026-01-02"}
    build_price_table({"hours_per_month": 730, "instance_types": {"r": {"t": good}}})
    for broken in ({**good, "source": "somewhere"}, {k: v for k, v in good.items() if k != "date"}):
        with pytest.raises(ValueError):
            build_price_table({"hours_per_month": 730, "instance_types": {"r": {"t": broken}}})


def run_capacity(*args: str):
    return CliRunner().invoke(cli, ["capacity", *args])


def test_against_another_file_shows_the_change_in_slices_and_cost(tmp_path, standard_support_day):
    # the other file has a100-mig at max 3: 16 1g.10gb per node x 3 = 48 against dev's 16 x 2 = 32
    other = write(tmp_path, lambda d: d["node_pools"]["a100-mig"].update(max_size=3))
    result = run_capacity("dev", "--against", str(other), "--output", "json")
    assert result.exit_code == 0, result.output
    changes = {c["item"]: c for c in json.loads(result.output)["changes"]}
    assert changes["a100-mig mig-1g.10gb"]["delta"] == {"min": 0, "desired": 0, "max": 32 - 48}
    assert changes["a100-mig mig-3g.40gb"]["delta"]["max"] == 16 - 24
    # one p4de.24xlarge less at max: -27.44705 x 730 = -20,036.35 a month
    assert changes["cost $/month"]["delta"]["max"] == pytest.approx(-27.44705 * 730, abs=0.05)
    assert set(changes) == {"a100-mig mig-1g.10gb", "a100-mig mig-2g.20gb", "a100-mig mig-3g.40gb", "cost $/month"}


def git(repo: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_against_a_git_ref_compares_the_file_at_that_commit(tmp_path, monkeypatch, standard_support_day):
    repo = tmp_path / "repo"
    (repo / "environments").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.org")
    git(repo, "config", "user.name", "t")
    path = repo / "environments" / "dev.yaml"
    path.write_text((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    data = copy.deepcopy(DEV)
    data["node_pools"]["h100"]["time_slicing"]["replicas"] = 4  # 8 GPUs x 4 = 32 per node instead of 16
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_capacity(str(path), "--against", base, "--output", "markdown")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("| h100 gpu"))
    assert "0 / 16 / 32 | 0 / 32 / 64 | 0 / +16 / +32" in row  # before | after | change
    assert "cost" not in result.output  # sharing changes slices, not nodes
    new = run_capacity(str(path), "--against", git(repo, "rev-parse", "HEAD") + "~0")
    assert new.exit_code == 0


def test_against_an_unknown_ref_is_bad_input():
    result = run_capacity("dev", "--against", "no-such-ref-anywhere")
    assert result.exit_code == 2 and "neither an environment file nor a git ref" in result.output


def what_if_json(*args: str) -> dict:
    result = run_capacity("dev", "--add", *args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_what_if_six_mig_slices_fit_on_the_desired_nodes(standard_support_day):
    # dev's a100-mig: 8 3g.40gb per node, ChatQnA already takes 1: 1 + 6 = 7 <= 8, so 1 node = desired
    data = what_if_json("chat: nvidia.com/mig-3g.40gb x6")
    (option,) = data["options"]
    assert (option["pool"], option["fits"], option["nodes_needed"], option["extra_nodes"]) == ("a100-mig", True, 1, 0)
    assert data["chosen"] == "a100-mig" and option["extra_usd_per_month"] == 0


def test_what_if_that_needs_a_new_node(standard_support_day):
    # 9 3g.40gb > 8 per node (dev's ChatQnA uses KServe's model, no 3g.40gb of its own): 2 nodes, 1 more
    # than desired; one p4de.24xlarge: 27.44705 x 730 = 20,036.35
    (option,) = what_if_json("chat: mig-3g.40gb x9")["options"]
    assert (option["nodes_needed"], option["extra_nodes"]) == (2, 1)
    assert option["extra_usd_per_month"] == pytest.approx(27.44705 * 730, abs=0.01)


def test_what_if_beyond_max_size_does_not_fit():
    # 17 > 8 x max 2 = 16: 3 nodes
    data = what_if_json("chat: mig-3g.40gb x17")
    assert data["chosen"] is None and data["options"][0]["nodes_needed"] == 3
    text = run_capacity("dev", "--add", "chat: mig-3g.40gb x17").output
    assert "does not fit: needs 3 nodes, max 2" in text and "does not fit, even at max size" in text


def test_what_if_picks_the_pool_with_the_fewest_extra_nodes():
    # 40 x nvidia.com/gpu: a100-timeslice 1 (tinyllama) + 40 = 41 / 32 -> 2 nodes (max 2); h100 40 / 16 -> 3 > 2;
    # gpu-workloads (Karpenter, 8 per node) 40 / 8 -> 5 > 2
    data = what_if_json("big: nvidia.com/gpu x40")
    found = {o["pool"]: (o["fits"], o["nodes_needed"]) for o in data["options"]}
    assert found == {"a100-timeslice": (True, 2), "h100": (False, 3), "gpu-workloads": (False, 5)}
    assert data["chosen"] == "a100-timeslice"


def test_what_if_a_resource_no_pool_offers():
    text = run_capacity("dev", "--add", "x: mig-7g.80gb x1").output
    assert "fits no pool: none offers nvidia.com/mig-7g.80gb" in text


@pytest.mark.parametrize("bad", ["bad", "Name: nvidia.com/gpu x2", "a: nvidia.com/gpu x0", "a: nvidia.com/gpu"])
def test_what_if_refuses_a_malformed_addition(bad):
    result = run_capacity("dev", "--add", bad)
    assert result.exit_code == 2 and "is not 'NAME: RESOURCE xN'" in result.output and "Traceback" not in result.output
