"""The synthesized Terraform of every shipped environment: what it builds, how it is secured, and
that the real hashicorp/aws provider accepts it (`terraform validate`).

Every environment is synthesized once per session (tests/conftest.py); expectations are derived
from the environment files, so a change there is checked rather than copied.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cdktf import Testing as CdktfTesting  # aliased: pytest would try to collect "Testing"

from eksml.outputs import irsa_service_accounts
from eksml.config import load_environment
from eksml.config.models import PoolKind
from eksml.errors import StageError
from eksml.gpu.sharing import DEVICE_PLUGIN_CONFIG_LABEL, MIG_CONFIG_LABEL, mig_config_name
from eksml.contract.names import STACK_OUTPUTS, role_name
from eksml.aws.synth import build, default_outdir, synthesize_if_changed
from eksml.contract.names import STACK_NAMES
from eksml.emulator.deviations import EMULATOR_IGNORED_CHANGES, NOT_EMULATED
from eksml.emulator.target import AwsTarget
from shipped import SHIPPED

CROSS_STACK_OUTPUT = "cross-stack-output-"
EXPECTED_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


@pytest.fixture(params=SHIPPED)
def synthesized(request, synthesized_environments):
    return synthesized_environments[request.param]


@pytest.fixture
def dev(synthesized_environments):
    return synthesized_environments["dev"]


def one(resources: dict[str, dict], **match) -> dict:
    found = [body for body in resources.values() if all(body.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected exactly one resource with {match}, found {len(found)}"
    return found[0]


def statements(policy_json: str) -> list[dict]:
    document = json.loads(policy_json)
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- stacks, state, provider -------------------------------------------------------------------


def test_stacks_in_dependency_order(synthesized):
    assert [s.name for s in synthesized.stacks] == list(STACK_NAMES)
    depends = {s.name: set(s.depends_on) for s in synthesized.stacks}
    assert depends["network"] == set()
    assert depends["cluster"] == {"network"}
    assert depends["data"] == {"network"}  # the database does not wait for the cluster
    assert depends["karpenter"] == {"cluster"}
    assert depends["platform"] == {"cluster", "data", "karpenter"}
    seen: set[str] = set()
    for stack in synthesized.stacks:  # the declared order is one a sequential run can follow
        assert depends[stack.name] <= seen, stack.name
        seen.add(stack.name)
    for stack in synthesized.stacks:
        assert stack.config_file.is_file()


def test_each_stack_defines_exactly_its_outputs(synthesized):
    for stack in STACK_NAMES:
        declared = {
            name for name in synthesized.config(stack).get("output", {}) if not name.startswith(CROSS_STACK_OUTPUT)
        }
        assert declared == set(STACK_OUTPUTS[stack]), stack


def test_map_outputs_are_maps_keyed_like_the_environment(synthesized):
    env = synthesized.env
    buckets = synthesized.config("data")["output"]["bucket_names"]["value"]
    assert set(buckets) == set(env.bucket_items)
    roles = synthesized.config("platform")["output"]["irsa_role_arns"]["value"]
    assert set(roles) == set(irsa_service_accounts(env))


def test_each_stack_keeps_its_own_encrypted_locked_state(synthesized):
    env = synthesized.env
    keys = set()
    for stack in STACK_NAMES:
        backend = synthesized.config(stack)["terraform"]["backend"]["s3"]
        assert backend["bucket"] == env.state.bucket
        assert backend["key"] == f"{env.state.key_prefix}/{stack}.tfstate"
        assert backend["region"] == env.region
        assert backend["encrypt"] is True
        assert backend["use_lockfile"] is True
        keys.add(backend["key"])
    assert len(keys) == len(STACK_NAMES)


def test_provider_tags_every_resource_and_pins_the_account(synthesized):
    env = synthesized.env
    for stack in STACK_NAMES:
        (provider,) = synthesized.config(stack)["provider"]["aws"]
        assert provider["region"] == env.region
        assert provider["default_tags"][0]["tags"] == {**env.tags, "eksml.io/environment": env.name}
        if synthesized.target.emulated:
            assert "allowed_account_ids" not in provider  # the emulator has its own account
        else:
            assert provider["allowed_account_ids"] == [env.account_id]
            assert "endpoints" not in provider and "access_key" not in provider


# --- node pools (cdktf Testing API) ------------------------------------------------------------


@pytest.mark.parametrize("pool_name", list(load_environment("dev").node_pools))
def test_every_dev_pool_is_a_node_group_as_configured(dev, pool_name):
    pool = dev.env.node_pools[pool_name]
    synthesized_stack = CdktfTesting.synth(dev.built.stacks["cluster"])
    expected_labels = {"eksml.io/pool": pool_name, "workload-type": pool.labels["workload-type"]}
    if pool.kind is PoolKind.gpu_time_slicing:
        expected_labels[DEVICE_PLUGIN_CONFIG_LABEL] = pool_name
    if pool.kind is PoolKind.gpu_mig:
        expected_labels[MIG_CONFIG_LABEL] = f"eksml-{pool_name}"
    expected = {
        "node_group_name": pool_name,
        "instance_types": pool.instance_types,
        "ami_type": "AL2023_x86_64_NVIDIA" if pool.kind.is_gpu else "AL2023_x86_64_STANDARD",
        "capacity_type": pool.capacity_type,
        "release_version": dev.env.cluster.ami_release_version,
        "labels": expected_labels,
        "scaling_config": {"min_size": pool.min_size, "desired_size": pool.desired_size, "max_size": pool.max_size},
        "update_config": {"max_unavailable": pool.max_unavailable},
    }
    if pool.taints:
        expected["taint"] = [
            {"key": t.key, "value": t.value, "effect": EXPECTED_EFFECT[t.effect]} for t in pool.taints
        ]
    assert CdktfTesting.to_have_resource_with_properties(synthesized_stack, "aws_eks_node_group", expected)


def test_node_group_labels_carry_no_other_sharing_label(dev):
    groups = dev.resources("cluster", "aws_eks_node_group")
    for name, pool in dev.env.node_pools.items():
        labels = one(groups, node_group_name=name)["labels"]
        assert (DEVICE_PLUGIN_CONFIG_LABEL in labels) == (pool.kind is PoolKind.gpu_time_slicing), name
        assert (MIG_CONFIG_LABEL in labels) == (pool.kind is PoolKind.gpu_mig), name


def test_gpu_node_groups_auto_repair_and_cpu_groups_do_not(dev):
    groups = dev.resources("cluster", "aws_eks_node_group")
    for name, pool in dev.env.node_pools.items():
        repair = one(groups, node_group_name=name).get("node_repair_config")
        assert (repair == {"enabled": True}) == pool.kind.is_gpu, (name, repair)


def test_node_groups_ignore_autoscaler_desired_size(dev):
    for body in dev.resources("cluster", "aws_eks_node_group").values():
        assert body["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]


def test_mig_config_names_fit_a_label_value_and_never_collide():
    assert mig_config_name("a100-mig") == "eksml-a100-mig"
    long_a, long_b = "a" * 62 + "x", "a" * 62 + "y"
    assert len(mig_config_name(long_a)) <= 63
    assert mig_config_name(long_a) != mig_config_name(long_b)


def test_launch_templates_enforce_imdsv2_and_encrypted_root_volumes(dev):
    templates = dev.resources("cluster", "aws_launch_template")
    for name, pool in dev.env.node_pools.items():
        template = one(templates, name=f"{dev.env.cluster.name}-{name}")
        metadata = template["metadata_options"]
        assert metadata["http_tokens"] == "required"
        assert metadata["http_put_response_hop_limit"] == (1 if pool.kind.is_gpu else 2), name
        (root,) = template["block_device_mappings"]
        assert root["device_name"] == "/dev/xvda"
        assert root["ebs"] == {
            "volume_size": pool.resolved_disk_size_gb, "volume_type": "gp3", "encrypted": "true",
            "kms_key_id": root["ebs"]["kms_key_id"], "delete_on_termination": "true",
        }
        assert root["ebs"]["kms_key_id"].startswith("${aws_kms_key.")  # which key: tests/test_node_volume_key.py


# --- encryption and data protection ----------------------------------------------------------


def test_every_store_is_encrypted(synthesized):
    env = synthesized.env
    kms_ref = "${aws_kms_key."
    encryption = synthesized.resources("data", "aws_s3_bucket_server_side_encryption_configuration")
    buckets = synthesized.resources("data", "aws_s3_bucket")
    assert len(encryption) == len(buckets) == len(env.bucket_items)
    for body in encryption.values():
        (rule,) = body["rule"]
        assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
        assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"].startswith(kms_ref)
    for fs in synthesized.resources("data", "aws_efs_file_system").values():
        assert fs["encrypted"] is True and fs["kms_key_id"].startswith(kms_ref)
    (db,) = synthesized.resources("data", "aws_db_instance").values()
    assert db["storage_encrypted"] is True and db["kms_key_id"].startswith(kms_ref)
    assert db["manage_master_user_password"] is True and "password" not in db
    (cluster,) = synthesized.resources("cluster", "aws_eks_cluster").values()
    assert cluster["encryption_config"]["resources"] == ["secrets"]
    assert cluster["encryption_config"]["provider"]["key_arn"].startswith(kms_ref)
    (queue,) = synthesized.resources("karpenter", "aws_sqs_queue").values()
    assert queue["sqs_managed_sse_enabled"] is True
    for template in synthesized.resources("cluster", "aws_launch_template").values():
        assert all(m["ebs"]["encrypted"] == "true" for m in template["block_device_mappings"])
    for stack in STACK_NAMES:
        for group in synthesized.resources(stack, "aws_cloudwatch_log_group").values():
            assert group["kms_key_id"].startswith(kms_ref)
            assert group["retention_in_days"] >= 7
            if synthesized.env.logs.retention_days is not None:  # dev sets it; the others keep the tier's
                assert group["retention_in_days"] == synthesized.env.logs.retention_days
        for key in synthesized.resources(stack, "aws_kms_key").values():
            assert key["enable_key_rotation"] is True


def test_buckets_are_private_versioned_and_tls_only(synthesized):
    env = synthesized.env
    names = {body["bucket"] for body in synthesized.resources("data", "aws_s3_bucket").values()}
    assert names == {env.bucket_name(item) for item in env.bucket_items}
    for body in synthesized.resources("data", "aws_s3_bucket_public_access_block").values():
        assert all(body[flag] is True for flag in
                   ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    versioning = synthesized.resources("data", "aws_s3_bucket_versioning")
    assert len(versioning) == len(names)
    assert all(v["versioning_configuration"]["status"] == "Enabled" for v in versioning.values())
    policies = synthesized.resources("data", "aws_s3_bucket_policy")
    assert len(policies) == len(names)
    for body in policies.values():
        (deny,) = statements(body["policy"])
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for bucket in synthesized.resources("data", "aws_s3_bucket").values():
        assert bucket["force_destroy"] is (not env.protected)


def test_logs_bucket_expires_objects_after_the_retention(synthesized):
    env = synthesized.env
    rules = {}
    for body in synthesized.resources("data", "aws_s3_bucket_lifecycle_configuration").values():
        (rule,) = body["rule"]
        rules[body["bucket"]] = rule
        assert rule["filter"] == [{"prefix": ""}]
        assert "transition" not in rule  # transitions are what would make the provider wait long
    logs_ref = next(ref for ref in rules if "buckets_logs_" in ref)
    assert rules[logs_ref]["expiration"] == [{"days": env.storage.log_retention_days}]
    backups_ref = next((ref for ref in rules if "buckets_backups_" in ref), None)
    assert (backups_ref is not None) is (env.backups is not None)
    if backups_ref:  # Velero deletes at its TTL; the lifecycle is the backstop a week later
        assert rules[backups_ref]["expiration"] == [{"days": env.backups.retention_days + 7}]
    assert all("expiration" not in rule for ref, rule in rules.items() if ref not in (logs_ref, backups_ref))


def test_efs_and_database_accept_only_the_cluster_security_group(synthesized):
    data = synthesized
    sg_ref = "cluster_security_group_id" if not data.target.emulated else "aws_security_groupemulator-cluster-sg"
    groups = data.resources("data", "aws_security_group")
    efs = one(groups, name=f"{data.env.cluster.name}-efs")
    db = one(groups, name=f"{data.env.cluster.name}-mlflow-db")
    assert "ingress" not in efs and "ingress" not in db  # nothing inline: the rules below are all there is
    assert len(data.resources("data", "aws_efs_mount_target")) == len(data.env.availability_zones)
    rules = list(data.resources("platform", "aws_vpc_security_group_ingress_rule").values())
    opened = {(rule["from_port"], rule["to_port"], rule["ip_protocol"]) for rule in rules}
    assert opened == {(2049, 2049, "tcp"), (5432, 5432, "tcp")}
    for rule in rules:
        assert sg_ref in rule["referenced_security_group_id"]
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
        store = "efs_sg" if rule["from_port"] == 2049 else "mlflow-db_sg"
        assert store in rule["security_group_id"]  # the store's group, read from the data stack


def test_database_protection_follows_the_environment(synthesized):
    env = synthesized.env
    wanted = env.storage.mlflow_db
    (db,) = synthesized.resources("data", "aws_db_instance").values()
    assert db["multi_az"] is wanted.multi_az
    assert db["deletion_protection"] is wanted.deletion_protection
    assert db["backup_retention_period"] == wanted.backup_retention_days
    assert db["publicly_accessible"] is False
    keeps_snapshot = env.protected or wanted.deletion_protection
    assert db["skip_final_snapshot"] is (not keeps_snapshot)
    assert ("final_snapshot_identifier" in db) is keeps_snapshot


def test_staging_and_prod_are_hardened_compared_to_dev(synthesized_environments):
    def nats(name):
        return len(synthesized_environments[name].resources("network", "aws_nat_gateway"))

    def db(name):
        (body,) = synthesized_environments[name].resources("data", "aws_db_instance").values()
        return body

    zones = {name: len(synthesized_environments[name].env.availability_zones) for name in ("dev", "staging", "prod")}
    assert nats("dev") == 1
    assert nats("staging") == zones["staging"] and nats("prod") == zones["prod"]
    assert db("dev")["multi_az"] is False and db("dev")["deletion_protection"] is False
    for name in ("staging", "prod"):
        assert db(name)["multi_az"] is True and db(name)["deletion_protection"] is True
        assert db(name)["skip_final_snapshot"] is False
    (prod_cluster,) = synthesized_environments["prod"].resources("cluster", "aws_eks_cluster").values()
    assert prod_cluster["vpc_config"]["endpoint_public_access"] is False
    assert "public_access_cidrs" not in prod_cluster["vpc_config"]


# --- network ----------------------------------------------------------------------------------


def test_subnets_are_tagged_for_load_balancers_and_karpenter(synthesized):
    env = synthesized.env
    name = env.cluster.name
    subnets = list(synthesized.resources("network", "aws_subnet").values())
    private = [s for s in subnets if s["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    public = [s for s in subnets if s["tags"].get("kubernetes.io/role/elb") == "1"]
    assert len(private) == len(public) == len(env.availability_zones)
    assert {s["availability_zone"] for s in private} == set(env.availability_zones)
    for subnet in private:
        assert subnet["tags"]["karpenter.sh/discovery"] == name
    for subnet in subnets:
        assert subnet["tags"][f"kubernetes.io/cluster/{name}"] == "shared"
        assert ipaddress.ip_network(subnet["cidr_block"]).subnet_of(ipaddress.ip_network(env.network.vpc_cidr))
    # pods take VPC-CNI addresses from the private subnets: those are the big ones
    assert min(ipaddress.ip_network(s["cidr_block"]).num_addresses for s in private) > max(
        ipaddress.ip_network(s["cidr_block"]).num_addresses for s in public
    )


def test_private_routes_use_the_nat_of_their_zone_when_there_is_one_per_zone(synthesized):
    env = synthesized.env
    nats = synthesized.resources("network", "aws_nat_gateway")
    expected = len(env.availability_zones) if env.network.nat_gateways == "one_per_az" else 1
    assert len(nats) == expected
    routes = [r for r in synthesized.resources("network", "aws_route").values() if "nat_gateway_id" in r]
    assert len(routes) == len(env.availability_zones)
    assert len({r["nat_gateway_id"] for r in routes}) == expected


def test_vpc_endpoints_keep_image_pulls_off_the_nat(synthesized):
    env = synthesized.env
    endpoints = synthesized.resources("network", "aws_vpc_endpoint").values()
    services = {e["service_name"]: e for e in endpoints}
    assert services[f"com.amazonaws.{env.region}.s3"]["vpc_endpoint_type"] == "Gateway"
    prefix = f"com.amazonaws.{env.region}."
    interface = {s.removeprefix(prefix) for s, e in services.items() if e["vpc_endpoint_type"] == "Interface"}
    assert interface == set(env.network.interface_endpoints)
    assert all(e["private_dns_enabled"] is True for e in endpoints if e["vpc_endpoint_type"] == "Interface")


def test_vpc_flow_logs_go_to_an_encrypted_log_group(synthesized):
    (flow_log,) = synthesized.resources("network", "aws_flow_log").values()
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"].startswith("${aws_cloudwatch_log_group.")


# --- cluster access and identity --------------------------------------------------------------


def test_cluster_uses_access_entries_for_its_admins(dev):
    env = dev.env
    (cluster,) = dev.resources("cluster", "aws_eks_cluster").values()
    assert cluster["version"] == env.cluster.kubernetes_version
    assert cluster["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    assert cluster["enabled_cluster_log_types"] == env.cluster.log_types
    assert cluster["vpc_config"]["public_access_cidrs"] == env.cluster.public_access_cidrs
    entries = dev.resources("cluster", "aws_eks_access_entry")
    associations = dev.resources("cluster", "aws_eks_access_policy_association")
    assert sorted(e["principal_arn"] for e in entries.values()) == sorted(env.cluster.admins)
    assert sorted(a["principal_arn"] for a in associations.values()) == sorted(env.cluster.admins)
    for association in associations.values():
        assert association["policy_arn"].endswith(":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
        assert association["access_scope"] == {"type": "cluster"}


def test_oidc_provider_needs_no_network_at_synth(dev):
    (oidc,) = dev.resources("cluster", "aws_iam_openid_connect_provider").values()
    assert oidc["client_id_list"] == ["sts.amazonaws.com"]
    assert len(oidc["thumbprint_list"]) == 1 and len(oidc["thumbprint_list"][0]) == 40
    assert "tls" not in json.dumps(dev.config("cluster").get("data", {}))


def test_managed_addons_with_csi_drivers_on_their_irsa_roles(dev):
    addons = {a["addon_name"]: a for a in dev.resources("cluster", "aws_eks_addon").values()}
    # The EFS CSI driver is a chart of the Kubernetes layer; its IRSA role stays in this stack.
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-node-monitoring-agent",
                           "snapshot-controller"}
    assert addons["aws-ebs-csi-driver"]["service_account_role_arn"].startswith("${aws_iam_role.addon-identity_ebs-csi")
    roles = dev.resources("cluster", "aws_iam_role")
    assert any(role["name"].endswith("-efs-csi") for role in roles.values())
    # coredns and the CSI controllers need nodes to become healthy
    assert len(addons["coredns"]["depends_on"]) == len(dev.env.node_pools)
    # NetworkPolicies only work with the VPC CNI's policy agent on; leftover detection needs cluster-tagged volumes
    assert json.loads(addons["vpc-cni"]["configuration_values"]) == {"enableNetworkPolicy": "true"}
    assert json.loads(addons["aws-ebs-csi-driver"]["configuration_values"]) == {"controller": {"k8sTagClusterId": dev.env.cluster.name}}


def test_ebs_volumes_are_encrypted_with_the_environments_key_the_csi_role_may_use(dev):
    aliases = [a["name"] for a in dev.resources("cluster", "aws_kms_alias").values()]
    assert f"alias/{dev.env.cluster.name}-ebs" in aliases
    policies = json.dumps(dev.resources("cluster", "aws_iam_role_policy"))
    assert "kms:CreateGrant" in policies and "kms:GrantIsForAWSResource" in policies
    assert "ec2.us-east-1.amazonaws.com" in policies


def test_cluster_security_group_is_discoverable_by_karpenter(dev):
    (tag,) = dev.resources("cluster", "aws_ec2_tag").values()
    assert tag["key"] == "karpenter.sh/discovery" and tag["value"] == dev.env.cluster.name
    assert "cluster_security_group_id" in tag["resource_id"]


def test_every_irsa_role_trusts_exactly_its_service_account(synthesized):
    env = synthesized.env
    roles = {
        body["name"]: (stack, body)
        for stack in ("cluster", "platform")
        for body in synthesized.resources(stack, "aws_iam_role").values()
    }
    for key, (namespace, service_account) in irsa_service_accounts(env).items():
        stack, role = roles[role_name(env.cluster.name, key)]
        (trust,) = statements(role["assume_role_policy"])
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert "openid_connect_provider" in trust["Principal"]["Federated"], key
        assert set(trust["Condition"]) == {"StringEquals"}, key
        conditions = trust["Condition"]["StringEquals"]
        assert len(conditions) == 2, key
        sub = next(v for k, v in conditions.items() if k.endswith(":sub"))
        aud = next(v for k, v in conditions.items() if k.endswith(":aud"))
        assert sub == f"system:serviceaccount:{namespace}:{service_account}", key
        assert aud == "sts.amazonaws.com", key
        # claim keys are the cluster's issuer with its https:// scheme stripped
        for condition_key in conditions:
            local_name = re.fullmatch(r"\$\{local\.([^}]+)\}:(sub|aud)", condition_key).group(1)
            issuer_host = synthesized.config(stack)["locals"][local_name]
            assert issuer_host.startswith("${replace(") and issuer_host.endswith(', "https://", "")}'), key
            assert "oidc[0].issuer" in issuer_host or "oidc0issuer" in issuer_host, key


def _policies(synthesized):
    for stack, rtype, name, body in synthesized.all_resources():
        for attribute in ("policy", "assume_role_policy"):
            if isinstance(body.get(attribute), str):
                yield f"{stack}/{rtype}.{name}.{attribute}", rtype, body[attribute]


def test_no_iam_statement_anywhere_allows_every_action(synthesized):
    checked = 0
    for where, rtype, policy in _policies(synthesized):
        for statement in statements(policy):
            actions = as_list(statement.get("Action", [])) + as_list(statement.get("NotAction", []))
            assert "*" not in actions, where
            assert "NotAction" not in statement, where
            if statement["Effect"] == "Allow" and rtype != "aws_kms_key":
                assert not any(a.endswith(":*") for a in actions), f"{where}: {actions}"
            checked += 1
    assert checked > 40  # the walk really found the policies


def test_kms_key_policies_grant_administration_to_the_account_only(synthesized):
    for stack in STACK_NAMES:
        for body in synthesized.resources(stack, "aws_kms_key").values():
            for statement in statements(body["policy"]):
                if "kms:*" in as_list(statement["Action"]):
                    assert statement["Principal"]["AWS"].endswith(":root")


def _inline_policy(synthesized, key: str) -> list[dict]:
    body = next(b for b in synthesized.resources("platform", "aws_iam_role_policy").values() if b["name"] == key)
    return statements(body["policy"])


def test_app_roles_reach_only_their_own_artifacts_prefix(dev):
    for key, prefix, writes in (("mlflow", "mlflow", True), ("argo-workflows", "argo", True), ("kserve", "models", False)):
        policy = _inline_policy(dev, key)
        objects = next(s for s in policy if any(a.startswith("s3:GetObject") for a in as_list(s["Action"])))
        (resource,) = as_list(objects["Resource"])
        assert "aws_s3_bucketbuckets_artifacts" in resource and resource.endswith(f"/{prefix}/*"), key
        assert ("s3:PutObject" in as_list(objects["Action"])) is writes, key
        listing = next(s for s in policy if as_list(s["Action"]) == ["s3:ListBucket"])
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}, key
        for statement in policy:
            assert statement["Resource"] != "*", key


def test_external_secrets_reads_only_the_database_secret(dev):
    (statement,) = _inline_policy(dev, "external-secrets")
    assert sorted(as_list(statement["Action"])) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert "master_user_secret0secret_arn" in statement["Resource"]


def test_fluent_bit_writes_streams_of_the_pod_log_group_only(dev):
    from eksml.contract.names import pod_log_group_name

    groups = {g["name"]: g for g in dev.resources("cluster", "aws_cloudwatch_log_group").values()}
    group = groups[pod_log_group_name(dev.env.cluster.name)]
    assert group["retention_in_days"] == dev.env.logs.retention_days and group["kms_key_id"]
    (statement,) = _inline_policy(dev, "fluent-bit")
    assert sorted(as_list(statement["Action"])) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert all("aws_cloudwatch_log_grouppod-logs" in resource for resource in as_list(statement["Resource"]))


def test_karpenter_controller_is_scoped_to_its_node_role_queue_and_tags(dev):
    policy = {s["Sid"]: s for s in _inline_policy(dev, "karpenter")}
    # Read from the karpenter stack's state: exactly its node role and its queue.
    assert "aws_iam_rolekarpenter_node-role" in policy["AllowPassingInstanceRole"]["Resource"]
    assert "reference-input-karpenter.outputs" in policy["AllowInterruptionQueueActions"]["Resource"]
    assert "aws_sqs_queuekarpenter_queue" in policy["AllowInterruptionQueueActions"]["Resource"]
    cluster_tag = f"aws:ResourceTag/kubernetes.io/cluster/{dev.env.cluster.name}"
    assert policy["AllowScopedDeletion"]["Condition"]["StringEquals"][cluster_tag] == "owned"
    for sid in ("AllowScopedEC2InstanceActionsWithTags", "AllowScopedResourceCreationTagging"):
        assert policy[sid]["Condition"]["StringEquals"][f"aws:RequestTag/kubernetes.io/cluster/{dev.env.cluster.name}"] == "owned"


def test_load_balancer_controller_mutates_only_tagged_resources(dev):
    policy = {s["Sid"]: s for s in _inline_policy(dev, "aws-load-balancer-controller")}
    for sid in ("DeleteOwnSecurityGroups", "ModifyOwnBalancers", "RetagOwnBalancers"):
        assert policy[sid]["Condition"]["Null"]["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "false", sid
    assert policy["CreateTaggedBalancers"]["Condition"]["Null"]["aws:RequestTag/elbv2.k8s.aws/cluster"] == "false"


# --- karpenter prerequisites -------------------------------------------------------------------


def test_karpenter_prerequisites(dev):
    env = dev.env
    (queue,) = dev.resources("karpenter", "aws_sqs_queue").values()
    assert queue["name"] == f"{env.cluster.name}-karpenter"
    allow = next(s for s in statements(queue["policy"]) if s["Effect"] == "Allow")
    assert sorted(allow["Principal"]["Service"]) == ["events.amazonaws.com", "sqs.amazonaws.com"]
    assert allow["Resource"].endswith(f":{env.cluster.name}-karpenter")  # the queue's own ARN, built by name
    patterns = sorted(
        (tuple(p["source"]), tuple(p["detail-type"]))
        for p in (json.loads(r["event_pattern"]) for r in dev.resources("karpenter", "aws_cloudwatch_event_rule").values())
    )
    assert patterns == sorted([
        (("aws.health",), ("AWS Health Event",)),
        (("aws.ec2",), ("EC2 Spot Instance Interruption Warning",)),
        (("aws.ec2",), ("EC2 Instance Rebalance Recommendation",)),
        (("aws.ec2",), ("EC2 Instance State-change Notification",)),
    ])
    targets = dev.resources("karpenter", "aws_cloudwatch_event_target").values()
    assert len(targets) == 4 and all(t["arn"].startswith("${aws_sqs_queue.karpenter_queue") for t in targets)
    (entry,) = dev.resources("karpenter", "aws_eks_access_entry").values()
    assert entry["type"] == "EC2_LINUX" and entry["principal_arn"].startswith("${aws_iam_role.karpenter_node-role")
    (profile,) = dev.resources("karpenter", "aws_iam_instance_profile").values()
    assert profile["name"] == role_name(env.cluster.name, "karpenter-node")


# --- emulator target ---------------------------------------------------------------------------


def test_emulator_target_leaves_out_what_moto_cannot_serve(dev, synthesized_dev_on_emulator):
    real_types = {rtype for _, rtype, _, _ in dev.all_resources()}
    emulated_types = {rtype for _, rtype, _, _ in synthesized_dev_on_emulator.all_resources()}
    assert set(NOT_EMULATED) <= real_types  # the real target has them...
    assert not set(NOT_EMULATED) & emulated_types  # ...the emulator target has none of them
    # The cluster security group's discovery tag is the other difference: the emulator's stand-in
    # security group carries that tag itself, so no aws_ec2_tag is needed there.
    assert real_types - emulated_types == set(NOT_EMULATED) | {"aws_ec2_tag"}


def test_emulator_target_points_provider_backend_and_remote_state_at_the_emulator(synthesized_dev_on_emulator):
    emulated = synthesized_dev_on_emulator
    url = emulated.target.endpoint_url
    for stack in STACK_NAMES:
        config = emulated.config(stack)
        (provider,) = config["provider"]["aws"]
        # No endpoints block (it costs the provider seconds per start): AWS_ENDPOINT_URL routes it.
        assert "endpoints" not in provider and url not in json.dumps(provider)
        assert (provider["access_key"], provider["secret_key"]) == ("testing", "testing")
        assert provider["skip_credentials_validation"] is True and provider["s3_use_path_style"] is True
        backend = config["terraform"]["backend"]["s3"]
        remote_states = list(config.get("data", {}).get("terraform_remote_state", {}).values())
        # Every stack it reads is one it depends on (karpenter depends on the cluster without reading it
        # on the emulator, which leaves the access entry out).
        assert len(remote_states) <= len(next(s for s in emulated.stacks if s.name == stack).depends_on)
        for settings in [backend] + [r["config"] for r in remote_states]:
            assert settings["endpoints"] == {"s3": url, "sts": url, "iam": url}
            assert settings["use_path_style"] is True
            assert settings["skip_credentials_validation"] is True
            assert settings["skip_requesting_account_id"] is True
            assert (settings["access_key"], settings["secret_key"]) == ("testing", "testing")


def test_real_target_remote_state_reads_the_real_backend(dev):
    for stack in ("cluster", "data", "karpenter", "platform"):
        for remote in dev.config(stack)["data"]["terraform_remote_state"].values():
            assert remote["backend"] == "s3"
            assert "endpoints" not in remote["config"] and "access_key" not in remote["config"]
            assert remote["config"]["bucket"] == dev.env.state.bucket


def test_emulator_target_ignores_only_the_drift_moto_causes(dev, synthesized_dev_on_emulator):
    for _, rtype, name, body in synthesized_dev_on_emulator.all_resources():
        ignored = body.get("lifecycle", {}).get("ignore_changes", [])
        assert len(ignored) == len(set(ignored)), name
        for attribute in EMULATOR_IGNORED_CHANGES.get(rtype, ()):
            assert attribute in ignored, f"{rtype}.{name}"
    for _, rtype, name, body in dev.all_resources():
        ignored = body.get("lifecycle", {}).get("ignore_changes", [])
        assert not set(ignored) & set(EMULATOR_IGNORED_CHANGES.get(rtype, ())), f"{rtype}.{name}"


def test_emulator_target_stands_in_for_the_cluster_security_group(synthesized_dev_on_emulator):
    output = synthesized_dev_on_emulator.config("cluster")["output"]["cluster_security_group_id"]["value"]
    assert output.startswith("${aws_security_group.emulator-cluster-sg")
    # The stand-in carries the discovery tag itself: a separate aws_ec2_tag would fight its tags on every plan.
    (group,) = [g for key, g in synthesized_dev_on_emulator.resources("cluster", "aws_security_group").items()
                if key.startswith("emulator-cluster-sg")]  # beside it: the EFA pools' own groups
    assert group["tags"]["karpenter.sh/discovery"] == synthesized_dev_on_emulator.env.cluster.name
    assert synthesized_dev_on_emulator.resources("cluster", "aws_ec2_tag") == {}


def test_an_emulator_only_environment_refuses_a_real_target():
    with pytest.raises(StageError, match="only against the AWS emulator"):
        build(load_environment("local"), AwsTarget())


def test_real_and_emulator_synth_never_share_a_directory():
    assert default_outdir("dev") != default_outdir("dev", AwsTarget("http://127.0.0.1:4566"))


# --- terraform validate with the real provider -------------------------------------------------

PROVIDER_MIRROR = Path(os.environ.get("EKSML_PROVIDER_MIRROR", "/opt/tf-plugins"))
CLI_CONFIG = """provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
"""


def _terraform(directory: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["terraform", *args], cwd=directory, env=environ, capture_output=True, text=True, timeout=300)


def _validate(directory: Path, environ: dict[str, str]) -> dict:
    result = _terraform(directory, environ, "validate", "-json", "-no-color")
    return json.loads(result.stdout)


# Every stack holds its own backend block; as a module of the one validation root it is ignored, and said so.
_MODULE_BACKEND_WARNING = "Backend configuration ignored"


def test_terraform_validates_every_stack_of_every_environment(synthesized_environments, tmp_path):
    """One root with every stack of every environment as a module: `terraform validate` checks each
    module's configuration as it would the stack's own root, and loads the provider schema once."""
    if shutil.which("terraform") is None or not PROVIDER_MIRROR.is_dir():
        pytest.skip(f"needs terraform on PATH and the hashicorp/aws mirror at {PROVIDER_MIRROR}")
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text(CLI_CONFIG.format(mirror=PROVIDER_MIRROR))
    environ = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    modules = {
        f"{name}_{stack.name}": stack.directory
        for name, synthesized in synthesized_environments.items()
        for stack in synthesized.stacks
    }
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf.json").write_text(json.dumps({"module": {key: {"source": str(d)} for key, d in modules.items()}}))
    init = _terraform(root, environ, "init", "-backend=false", "-input=false", "-no-color")
    assert init.returncode == 0, f"terraform init failed:\n{init.stderr[-3000:]}"
    result = _validate(root, environ)
    problems = [
        f"{d.get('range', {}).get('filename', '?')}: {d.get('severity', 'error')}: {d['summary']} {d.get('detail', '')}"
        for d in result["diagnostics"] if d["summary"] != _MODULE_BACKEND_WARNING
    ]
    assert result["valid"] and not problems, problems
    assert len(modules) == len(STACK_NAMES) * len(SHIPPED)


# --- the command and the CDKTF CLI app ---------------------------------------------------------


def test_synth_command_writes_every_stack_and_names_them(synthesized_environments, tmp_path):
    from click.testing import CliRunner

    from eksml.cli import cli

    result = CliRunner().invoke(cli, ["synth", "dev", "--outdir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for stack in STACK_NAMES:
        assert (tmp_path / "out" / "stacks" / stack / "cdk.tf.json").is_file()
        assert f"stacks/{stack}/cdk.tf.json" in result.output
    assert "not emulated" not in result.output


def test_synth_command_for_the_emulator_says_what_is_not_emulated(synthesized_environments, tmp_path):
    from click.testing import CliRunner

    from eksml.cli import cli

    result = CliRunner().invoke(
        cli, ["synth", "staging", "--emulator", "--outdir", str(tmp_path / "out"), "--output", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["endpoint"] == "http://127.0.0.1:4566"
    assert report["not_emulated"] == list(NOT_EMULATED)
    assert [s["name"] for s in report["stacks"]] == list(STACK_NAMES)
    network = json.loads((tmp_path / "out" / "stacks" / "network" / "cdk.tf.json").read_text())
    assert network["terraform"]["backend"]["s3"]["endpoints"]["s3"] == "http://127.0.0.1:4566"


def test_synth_command_rejects_an_endpoint_that_is_not_a_url(tmp_path):
    from click.testing import CliRunner

    from eksml.cli import cli

    result = CliRunner().invoke(cli, ["synth", "dev", "--emulator-endpoint", "localhost", "--outdir", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a URL" in result.output
    assert not any(tmp_path.iterdir())


def test_cdktf_cli_app_reads_the_environment_from_eksml_env(synthesized_environments, tmp_path, monkeypatch):
    from eksml.aws import app as synth_app
    from eksml.paths import PROJECT_ROOT

    app_command = json.loads((PROJECT_ROOT / "cdktf.json").read_text())["app"]
    assert app_command.endswith("-m eksml.aws.app")
    monkeypatch.setenv("EKSML_ENV", "prod")
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "cdktf.out"))
    assert synth_app.main() == 0
    cluster = json.loads((tmp_path / "cdktf.out" / "stacks" / "cluster" / "cdk.tf.json").read_text())
    assert next(iter(cluster["resource"]["aws_eks_cluster"].values()))["name"] == "mlplatform-prod"
    monkeypatch.setenv("EKSML_ENV", "no-such-env")
    assert synth_app.main() == 2


# --- reuse of an earlier synthesis --------------------------------------------------------------


def test_a_synthesis_is_reused_only_while_its_inputs_are_unchanged(tmp_path):
    env = load_environment("dev")
    outdir = tmp_path / "synth"
    outdir.mkdir()
    first, reused = synthesize_if_changed(env, outdir, AwsTarget())
    assert not reused
    again, reused = synthesize_if_changed(env, outdir, AwsTarget())
    assert reused and again == first
    retagged = env.model_copy(update={"tags": {**env.tags, "cost-center": "ml-42"}})
    _, reused = synthesize_if_changed(retagged, outdir, AwsTarget())
    assert not reused  # another environment
    _, reused = synthesize_if_changed(retagged, outdir, AwsTarget("http://127.0.0.1:45667"))
    assert not reused  # another target
    (again[0].config_file).unlink()
    _, reused = synthesize_if_changed(retagged, outdir, AwsTarget("http://127.0.0.1:45667"))
    assert not reused  # a file of it is gone
