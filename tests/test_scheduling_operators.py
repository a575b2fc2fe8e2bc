"""The static scheduling check decides like the scheduler: every affinity operator, every taint
effect, tolerations, and pod templates under `enabled: false` skipped. Pools and workloads are
literals (labels and taints as staging.yaml writes them), so each expectation can be read off."""

from __future__ import annotations

import pytest

from eksml.k8s.model.records import NodeTaint, PoolTarget
from eksml.k8s.checks.scheduling import rejection_reasons, workloads_in_values

GPU = {"limits": {"nvidia.com/gpu": 1}}
AFFINITY_REFUSED = "required node affinity matches none of the pool's labels"


def pool(labels=None, taints=()) -> PoolTarget:
    return PoolTarget(
        name="a100-timeslice", source="node group",
        labels=tuple(sorted((labels if labels is not None else {"workload-type": "research", "gpu-count": "8"}).items())),
        taints=tuple(taints), gpu_resources=(("nvidia.com/gpu", 32),), gpu="A100-40GB", sharing="time-slicing x4",
    )


def one_workload(values: dict):
    found = workloads_in_values("component", values)
    assert len(found) == 1, found
    return found[0]


def affinity(key: str, operator: str, values=None) -> dict:
    expression = {"key": key, "operator": operator, **({"values": values} if values is not None else {})}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [expression]}]}}}


@pytest.mark.parametrize("key, operator, values, fits", [
    ("workload-type", "In", ["research", "training"], True),
    ("workload-type", "In", ["training"], False),
    ("missing", "In", ["research"], False),
    ("workload-type", "NotIn", ["training"], True),
    ("workload-type", "NotIn", ["research"], False),
    ("missing", "NotIn", ["research"], True),
    ("workload-type", "Exists", None, True),
    ("missing", "Exists", None, False),
    ("workload-type", "DoesNotExist", None, False),
    ("missing", "DoesNotExist", None, True),
    ("gpu-count", "Gt", ["4"], True),
    ("gpu-count", "Gt", ["8"], False),
    ("gpu-count", "Gt", ["16"], False),
    ("missing", "Gt", ["1"], False),
    ("workload-type", "Gt", ["1"], False),  # not a number
    ("gpu-count", "Lt", ["16"], True),
    ("gpu-count", "Lt", ["8"], False),
    ("gpu-count", "Lt", ["4"], False),
    ("missing", "Lt", ["100"], False),
])
def test_each_affinity_operator(key, operator, values, fits):
    workload = one_workload({"resources": GPU, "affinity": affinity(key, operator, values)})
    assert (AFFINITY_REFUSED not in rejection_reasons(workload, pool())) is fits


def test_affinity_terms_are_or_and_expressions_are_and():
    both = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "workload-type", "operator": "In", "values": ["training"]}]},
        {"matchExpressions": [{"key": "workload-type", "operator": "In", "values": ["research"]},
                              {"key": "gpu-count", "operator": "Gt", "values": ["4"]}]},
    ]}}}
    assert AFFINITY_REFUSED not in rejection_reasons(one_workload({"resources": GPU, "affinity": both}), pool())
    both["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][1][
        "matchExpressions"][1]["values"] = ["8"]
    assert AFFINITY_REFUSED in rejection_reasons(one_workload({"resources": GPU, "affinity": both}), pool())


@pytest.mark.parametrize("effect, blocks", [("NoSchedule", True), ("NoExecute", True), ("PreferNoSchedule", False)])
def test_each_taint_effect_without_a_toleration(effect, blocks):
    taint = NodeTaint("gpu", "true", effect)
    reasons = rejection_reasons(one_workload({"resources": GPU}), pool(taints=[taint]))
    assert (f"taint gpu=true:{effect} is not tolerated" in reasons) is blocks


@pytest.mark.parametrize("toleration, tolerated", [
    ({"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoExecute"}, True),
    ({"key": "gpu", "value": "true"}, True),  # Equal by default, any effect
    ({"key": "gpu", "operator": "Equal", "value": "mig", "effect": "NoExecute"}, False),
    ({"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}, False),  # other effect
    ({"key": "gpu", "operator": "Exists"}, True),
    ({"operator": "Exists"}, True),  # tolerates every taint
    ({"key": "other", "operator": "Exists"}, False),
])
def test_tolerations_of_a_no_execute_taint(toleration, tolerated):
    taint = NodeTaint("gpu", "true", "NoExecute")
    workload = one_workload({"resources": GPU, "tolerations": [toleration]})
    assert ("taint gpu=true:NoExecute is not tolerated" not in rejection_reasons(workload, pool(taints=[taint]))) is tolerated


def test_node_selector_must_match_exactly():
    assert rejection_reasons(one_workload({"resources": GPU, "nodeSelector": {"workload-type": "research"}}), pool()) == []
    reasons = rejection_reasons(one_workload({"resources": GPU, "nodeSelector": {"workload-type": "training"}}), pool())
    assert reasons == ["nodeSelector workload-type=training does not match (the pool has workload-type=research)"]


def test_pod_templates_under_enabled_false_are_skipped():
    values = {
        "off": {"enabled": False, "resources": GPU},
        "off-parent": {"enabled": False, "inner": {"resources": GPU}},
        "on": {"enabled": True, "resources": GPU},
        "plain": {"nested": {"resources": GPU}},
    }
    assert sorted(w.path for w in workloads_in_values("component", values)) == ["on", "plain.nested"]


@pytest.mark.parametrize("asked, fits", [(31, True), (32, True), (33, False)])
def test_a_workload_may_ask_for_exactly_what_a_node_offers(asked, fits):
    workload = one_workload({"resources": {"limits": {"nvidia.com/gpu": asked}}})
    reasons = rejection_reasons(workload, pool())
    assert (f"asks for {asked} nvidia.com/gpu but a node of the pool has 32" not in reasons) is fits


def test_what_each_pool_runs_and_what_runs_nowhere():
    from eksml.k8s.checks.scheduling import place, pool_workloads, unplaced

    pools = [pool(), pool(labels={"workload-type": "training"})]
    pinned = one_workload({"resources": GPU, "nodeSelector": {"workload-type": "research"}})
    lost = one_workload({"resources": GPU, "nodeSelector": {"workload-type": "inference"}})
    cpu_only = one_workload({"resources": {"requests": {"cpu": "1"}}})
    placements = [place(w, pools) for w in (pinned, lost, cpu_only)]
    assert placements[0].pools == ("a100-timeslice",)
    assert pool_workloads(placements, "a100-timeslice") == [pinned]  # cpu_only lands anywhere: not listed
    assert [p.workload for p in unplaced(placements)] == [lost]


def test_descriptions_of_tolerations_and_resources():
    from eksml.k8s.checks.scheduling import describe_resources, describe_tolerations

    workload = one_workload({
        "resources": {"limits": {"nvidia.com/gpu": 1, "cpu": "2"}},
        "tolerations": [{"key": "gpu", "operator": "Exists"}, {"key": "gpu", "value": "mig", "effect": "NoSchedule"}],
    })
    assert describe_tolerations(workload) == "gpu:* (any value), gpu=mig:NoSchedule"
    assert describe_resources(workload) == "nvidia.com/gpu: 1"
    assert describe_resources(workload, only_gpu=False) == "cpu: 2, nvidia.com/gpu: 1"
    assert describe_tolerations(one_workload({"resources": GPU})) == "none"
