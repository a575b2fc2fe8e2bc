"""The GPU catalog: shipped data checked against AWS's own data (moto) and the shared GPU facts,
and the MIG placement search checked against known-good and known-bad mixes."""

from __future__ import annotations

import itertools
import json
import re

import boto3
import pytest
from moto import mock_aws

from eksml.catalog import Catalog, Gpu, InstanceType, MigProfile, load_catalog
from eksml.catalog.report import describe_instance_type, format_catalog, format_instance_type

from shared_data import GPU_FACTS_FILE

MIG_GPUS = ["A100-40GB", "A100-80GB", "H100-80GB", "H200-141GB"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- shape of the API -------------------------------------------------------------------------

def test_load_catalog_is_cached_and_typed(catalog):
    assert load_catalog() is catalog
    it = catalog.instance_type("p4de.24xlarge")
    assert isinstance(it, InstanceType) and isinstance(it.gpu, Gpu)
    assert isinstance(catalog.mig_profile("A100-80GB", "3g.40gb"), MigProfile)
    assert catalog.instance_type("p9.fake") is None
    assert catalog.gpu("B200-180GB") is None


def test_instance_types_sorted_and_grouped_by_family(catalog):
    names = [it.name for it in catalog.instance_types()]
    assert names == sorted(names)
    g5 = catalog.instance_types_in_family("g5")
    assert {it.name for it in g5} == {f"g5.{size}" for size in
                                      ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")}
    assert all(it.family == "g5" for it in g5)
    # "p5" must not swallow p5e/p5en.
    assert {it.family for it in catalog.instance_types_in_family("p5")} == {"p5"}


def test_required_types_are_present(catalog):
    required = ["p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge",
                *(f"g5.{s}" for s in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")),
                "g6.xlarge", "g6e.xlarge", "g4dn.xlarge",
                *(f"m5.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")),
                "t3.medium", "t3.large", "t3.xlarge"]
    assert [name for name in required if catalog.instance_type(name) is None] == []
    for family in ("g6", "g6e", "g4dn", "m6i", "c5", "r5"):
        assert len(catalog.instance_types_in_family(family)) >= 3, family


def test_gpu_ids_and_ec2_ambiguity(catalog):
    assert {gpu.id for gpu in catalog.gpus()} >= {
        "A100-40GB", "A100-80GB", "H100-80GB", "H200-141GB", "A10G-24GB", "L4-24GB", "L40S-48GB", "T4-16GB"}
    assert catalog.gpu("A100-40GB").ec2_name == catalog.gpu("A100-80GB").ec2_name == "A100"
    assert catalog.gpu_from_ec2("A100", 40960).id == "A100-40GB"
    assert catalog.gpu_from_ec2("A100", 81920).id == "A100-80GB"
    assert catalog.gpu_from_ec2("A100", 12345) is None
    assert {gpu.id for gpu in catalog.gpus() if gpu.mig_capable} == set(MIG_GPUS)


def test_p5_is_h100_and_p4_are_a100s(catalog):
    assert catalog.instance_type("p5.48xlarge").gpu.id == "H100-80GB"
    assert catalog.instance_type("p4d.24xlarge").gpu.id == "A100-40GB"
    assert catalog.instance_type("p4de.24xlarge").gpu.id == "A100-80GB"
    assert catalog.instance_type("p5en.48xlarge").gpu.id == "H200-141GB"


def test_cpu_types_have_no_gpu(catalog):
    m5 = catalog.instance_type("m5.large")
    assert (m5.gpu, m5.gpu_count, m5.is_gpu) == (None, 0, False)
    assert catalog.instance_type("g4dn.xlarge").is_gpu


# --- MIG profiles -----------------------------------------------------------------------------

def test_mig_profile_names_per_gpu(catalog):
    def names(gpu_id):
        return [p.name for p in catalog.mig_profiles(gpu_id)]

    assert names("A100-40GB") == ["1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]
    assert names("A100-80GB") == names("H100-80GB") == [
        "1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]
    assert names("H200-141GB") == ["1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"]
    for gpu_id in ("A10G-24GB", "L4-24GB", "L40S-48GB", "T4-16GB"):
        assert catalog.mig_profiles(gpu_id) == []


def test_one_g_ten_gb_is_the_double_memory_profile_on_a100_40gb(catalog):
    profile = catalog.mig_profile("A100-40GB", "1g.10gb")
    assert (profile.profile_class, profile.compute_slices, profile.memory_slices, profile.max_per_gpu) == ("1g.2mem", 1, 2, 4)
    assert profile.start_slots == (0, 2, 4, 6)
    assert catalog.place_mig_layout("A100-40GB", ["1g.10gb"] * 4) is not None
    assert catalog.place_mig_layout("A100-40GB", ["1g.10gb"] * 5) is None


def test_eighty_gb_names_are_invalid_on_a100_40gb(catalog):
    assert catalog.mig_profile("A100-40GB", "3g.40gb") is None
    with pytest.raises(ValueError, match="3g.40gb"):
        catalog.place_mig_layout("A100-40GB", ["3g.40gb"])


def test_place_rejects_non_mig_and_unknown_gpus(catalog):
    with pytest.raises(ValueError, match="MIG"):
        catalog.place_mig_layout("A10G-24GB", ["1g.5gb"])
    with pytest.raises(ValueError, match="unknown GPU"):
        catalog.place_mig_layout("B200-180GB", ["1g.23gb"])


def test_resource_names_follow_mixed_strategy(catalog):
    assert catalog.mig_profile("A100-80GB", "1g.10gb+me").resource_name == "nvidia.com/mig-1g.10gb.me"
    assert catalog.mig_profile("H200-141GB", "7g.141gb").resource_name == "nvidia.com/mig-7g.141gb"


@pytest.mark.parametrize(("gpu_id", "layout", "fits"), [
    ("A100-80GB", ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"], True),
    ("A100-80GB", ["4g.40gb", "4g.40gb"], False),
    ("A100-80GB", ["3g.40gb", "3g.40gb", "1g.10gb"], False),   # 7 compute slices, but no memory left
    ("A100-40GB", ["1g.10gb"] * 5, False),
    ("A100-80GB", ["1g.10gb"] * 7, True),
    ("A100-80GB", ["4g.40gb", "3g.40gb"], True),
    ("A100-80GB", ["4g.40gb", "2g.20gb", "2g.20gb"], False),  # 8 compute slices
    ("H100-80GB", ["7g.80gb", "1g.10gb"], False),
    ("A100-80GB", ["1g.10gb+me", "1g.10gb+me"], False),
    ("H200-141GB", ["1g.18gb", "1g.18gb", "2g.35gb", "3g.71gb"], True),  # mig-parted all-balanced
    ("A100-80GB", [], True),
])
def test_place_mig_layout_examples(catalog, gpu_id, layout, fits):
    assert (catalog.place_mig_layout(gpu_id, layout) is not None) is fits


def test_placement_is_a_real_layout_in_request_order(catalog):
    layout = ["1g.10gb", "3g.40gb", "1g.10gb", "2g.20gb"]
    starts = catalog.place_mig_layout("A100-80GB", layout)
    assert len(starts) == len(layout)
    used: set[int] = set()
    for name, start in zip(layout, starts):
        profile = catalog.mig_profile("A100-80GB", name)
        assert start in profile.start_slots
        slots = set(range(start, start + profile.memory_slices))
        assert not slots & used
        used |= slots


@pytest.mark.parametrize("gpu_id", MIG_GPUS)
def test_every_profile_fits_alone_and_at_its_max_but_not_beyond(catalog, gpu_id):
    for profile in catalog.mig_profiles(gpu_id):
        assert catalog.place_mig_layout(gpu_id, [profile.name]) is not None, profile.name
        assert catalog.place_mig_layout(gpu_id, [profile.name] * profile.max_per_gpu) is not None, profile.name
        assert catalog.place_mig_layout(gpu_id, [profile.name] * (profile.max_per_gpu + 1)) is None, profile.name


# --- against AWS's DescribeInstanceTypes data (bundled in moto) ---------------------------------

def test_gpu_instance_types_match_ec2_describe_instance_types(catalog, monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    ours = {it.name: it for it in catalog.instance_types()}
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        names = sorted(ours)
        described = {}
        for chunk in (names[i:i + 100] for i in range(0, len(names), 100)):
            for info in ec2.describe_instance_types(InstanceTypes=chunk)["InstanceTypes"]:
                described[info["InstanceType"]] = info

    assert set(described) == set(ours)
    for name, it in ours.items():
        info = described[name]
        assert it.vcpus == info["VCpuInfo"]["DefaultVCpus"], name
        assert it.memory_gib * 1024 == info["MemoryInfo"]["SizeInMiB"], name
        assert it.architecture in info["ProcessorInfo"]["SupportedArchitectures"], name
        assert it.efa == info["NetworkInfo"].get("EfaSupported", False), name
        assert it.efa_interfaces == info["NetworkInfo"].get("EfaInfo", {}).get("MaximumEfaInterfaces", 0), name
        gpus = info.get("GpuInfo", {}).get("Gpus", [])
        if not it.is_gpu:
            assert gpus == [], name
            continue
        assert len(gpus) == 1, name
        assert gpus[0]["Name"] == it.gpu.ec2_name, name
        assert gpus[0]["Count"] == it.gpu_count, name
        assert catalog.gpu_from_ec2(gpus[0]["Name"], gpus[0]["MemoryInfo"]["SizeInMiB"]) == it.gpu, name


# --- against the shared GPU facts -------------------------------------------------------------

@pytest.fixture(scope="module")
def gpu_facts() -> dict:
    return json.loads(GPU_FACTS_FILE.read_text())


def test_instance_types_match_shared_facts(catalog, gpu_facts):
    for name, fact in gpu_facts["instance_types"].items():
        it = catalog.instance_type(name)
        assert it is not None, name
        assert (it.vcpus, it.memory_gib, it.efa) == (fact["vcpus"], fact["memory_gib"], fact["efa_supported"]), name
        assert it.architecture in fact["architecture"], name
        gpu = fact.get("gpu")
        if gpu is None:
            assert not it.is_gpu, name
            continue
        assert (it.gpu.ec2_name, it.gpu.ec2_memory_mib, it.gpu_count) == (
            gpu["ec2_api_name"], gpu["memory_mib_per_gpu_ec2_api"], gpu["count"]), name
        assert it.gpu.memory_gb == gpu["nominal_memory_gb_per_gpu"], name
        assert it.gpu.mig_capable == gpu["mig_capable"], name


def _parse_placements(text: str) -> tuple[tuple[int, ...], int]:
    starts, size = re.fullmatch(r"\{([\d,]+)\}:(\d+)", text).groups()
    return tuple(int(s) for s in starts.split(",")), int(size)


def _shared_mig_gpus(catalog, gpu_facts):
    """(our GPU id, facts entry) for every MIG GPU the facts tie to an AWS instance type."""
    for fact in gpu_facts["mig_profiles"]["gpus"].values():
        if fact["aws_instance_types"]:
            yield catalog.instance_type(fact["aws_instance_types"][0]).gpu.id, fact


def test_mig_profiles_match_shared_facts(catalog, gpu_facts):
    seen = set()
    for gpu_id, fact in _shared_mig_gpus(catalog, gpu_facts):
        seen.add(gpu_id)
        ours = catalog.mig_profiles(gpu_id)
        assert [p.name for p in ours] == [p["name"] for p in fact["profiles"]], gpu_id
        for profile, expected in zip(ours, fact["profiles"]):
            assert profile.compute_slices == expected["compute_slices_of_7"], profile.name
            assert profile.memory_slices == expected["memory_slices_of_8"], profile.name
            assert profile.max_per_gpu == expected["max_instances_per_gpu"], profile.name
            assert profile.resource_name == expected["k8s_resource_mixed"], profile.name
            assert (profile.start_slots, profile.memory_slices) == _parse_placements(expected["placements"]), profile.name
    assert seen == set(MIG_GPUS)


def test_placement_search_agrees_with_shared_valid_mix_list(catalog, gpu_facts):
    """The facts list every valid mix without +me profiles; everything else within the limits must fail."""
    for gpu_id, fact in _shared_mig_gpus(catalog, gpu_facts):
        valid = {frozenset(mix.items()) for mix in fact["valid_combinations_all_per_gpu"]}
        assert len(valid) == fact["valid_combinations_all_per_gpu_count"]
        plain = [p for p in catalog.mig_profiles(gpu_id) if p.profile_class != "1g+me"]
        for counts in itertools.product(*(range(p.max_per_gpu + 1) for p in plain)):
            mix = {p.name: n for p, n in zip(plain, counts) if n}
            if not mix:
                continue
            layout = [name for name, n in mix.items() for _ in range(n)]
            fits = catalog.place_mig_layout(gpu_id, layout) is not None
            assert fits == (frozenset(mix.items()) in valid), (gpu_id, mix)
        balanced = fact["all_balanced"]["mig-devices"]
        assert catalog.place_mig_layout(gpu_id, [n for n, c in balanced.items() for _ in range(c)]) is not None


# --- report -----------------------------------------------------------------------------------

def test_describe_instance_type_is_json_and_complete(catalog):
    described = describe_instance_type(catalog.instance_type("p4de.24xlarge"), catalog)
    assert json.loads(json.dumps(described)) == described
    assert described["gpu"]["id"] == "A100-80GB" and described["gpu"]["count"] == 8
    assert described["gpu"]["total_memory_gb"] == 640
    profile = next(p for p in described["mig_profiles"] if p["name"] == "1g.10gb")
    assert (profile["max_per_gpu"], profile["max_per_instance"], profile["resource_name"]) == (7, 56, "nvidia.com/mig-1g.10gb")
    cpu = describe_instance_type(catalog.instance_type("m5.large"), catalog)
    assert cpu["gpu"] is None and cpu["mig_profiles"] == []


def test_format_instance_type(catalog):
    text = format_instance_type(catalog.instance_type("p4de.24xlarge"), catalog)
    assert text.splitlines()[0] == "p4de.24xlarge: 8x NVIDIA A100 80GB (A100-80GB), 96 vCPU, 1152 GiB"
    assert "nvidia.com/mig-1g.10gb.me" in text
    assert "time-slicing" in format_instance_type(catalog.instance_type("g5.xlarge"), catalog)


def test_format_catalog_has_one_line_per_type(catalog):
    lines = format_catalog(catalog).splitlines()
    assert len(lines) == len(catalog.instance_types())
    assert any(line.startswith("p5.48xlarge ") and "8x H100-80GB" in line for line in lines)


# --- the data files are hand-edited: mistakes must fail on load --------------------------------

def _shipped_data() -> tuple[dict, dict]:
    from importlib import resources
    package = resources.files("eksml.catalog")
    return (json.loads(package.joinpath("instance_types.json").read_text()),
            json.loads(package.joinpath("mig_profiles.json").read_text()))


@pytest.mark.parametrize(("break_it", "message"), [
    (lambda types, mig: types["instance_types"]["g5.xlarge"].update(gpu="A10-24GB"), "unknown GPU"),
    (lambda types, mig: types["instance_types"]["g5.xlarge"].pop("gpu_count"), "gpu_count"),
    (lambda types, mig: types["instance_types"]["m5.large"].update(memory_gib="8"), "memory_gib"),
    (lambda types, mig: types["instance_types"]["m5.large"].update(vcpu=2), "unknown keys"),
    (lambda types, mig: mig["gpus"]["A100-40GB"].pop("1g.2mem"), "classes"),
    (lambda types, mig: mig["profile_classes"]["3g"].update(start_slots=[0, 5]), "placement past slot"),
])
def test_build_catalog_rejects_broken_data(break_it, message):
    from eksml.catalog.loader import build_catalog
    types, mig = _shipped_data()
    break_it(types, mig)
    with pytest.raises(ValueError, match=message):
        build_catalog(types, mig)
