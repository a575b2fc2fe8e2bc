"""Node root volumes are encrypted with the environment's EBS key, not the AWS-managed one, on both
paths that start nodes: the node groups' launch templates (EC2 Auto Scaling launches them) and
Karpenter's EC2NodeClasses (its controller launches them)."""

from __future__ import annotations

import json

import pytest
from test_k8s_objects import owned_objects
from test_synth import as_list, statements, synthesized  # noqa: F401 (a fixture)

from eksml.config import load_environment
from eksml.contract.names import ebs_key_alias
from shipped import SHIPPED

AUTO_SCALING_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def ebs_key_resource(synthesized) -> str:
    """The Terraform name of the environment's EBS key, found through its alias."""
    (alias,) = [a for a in synthesized.resources("cluster", "aws_kms_alias").values()
                if a["name"] == f"alias/{ebs_key_alias(synthesized.env.cluster.name)}"]
    return alias["target_key_id"].removeprefix("${aws_kms_key.").removesuffix(".key_id}")


def test_every_launch_template_encrypts_the_root_volume_with_the_ebs_key(synthesized):
    key = f"${{aws_kms_key.{ebs_key_resource(synthesized)}.arn}}"
    templates = synthesized.resources("cluster", "aws_launch_template")
    assert len(templates) == len(synthesized.env.node_pools)
    for name, template in templates.items():
        for mapping in template["block_device_mappings"]:
            assert mapping["ebs"]["encrypted"] == "true" and mapping["ebs"]["kms_key_id"] == key, name


def test_the_ebs_key_lets_auto_scaling_launch_with_it(synthesized):
    """Auto Scaling's service-linked role launches the node groups' instances; no IAM policy of ours
    can grant it anything, so without these key-policy statements no node would start."""
    key = synthesized.resources("cluster", "aws_kms_key")[ebs_key_resource(synthesized)]
    by_sid = {s["Sid"]: s for s in statements(key["policy"])}
    use, grants = by_sid["RolesUseKey"], by_sid["RolesAttachPersistentResources"]
    for statement in (use, grants):
        (principal,) = as_list(statement["Principal"]["AWS"])
        assert principal.endswith(f":{AUTO_SCALING_ROLE}")
    assert {"kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"} <= set(as_list(use["Action"]))
    assert as_list(grants["Action"]) == ["kms:CreateGrant"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_karpenter_may_use_the_ebs_key_only_through_ec2(synthesized):
    body = next(b for b in synthesized.resources("platform", "aws_iam_role_policy").values() if b["name"] == "karpenter")
    by_sid = {s["Sid"]: s for s in statements(body["policy"])}
    use, grants = by_sid["NodeVolumeKeyUse"], by_sid["NodeVolumeKeyGrants"]
    via_ec2 = {"kms:ViaService": f"ec2.{synthesized.env.region}.amazonaws.com"}
    for statement in (use, grants):
        (resource,) = as_list(statement["Resource"])
        assert "ebs-key" in resource and statement["Condition"]["StringEquals"] == via_ec2
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert not any("kms:*" in as_list(s["Action"]) for s in by_sid.values())


@pytest.mark.parametrize("env_name", SHIPPED)
def test_node_classes_encrypt_with_the_key_of_the_storage_classes(env_name):
    env = load_environment(env_name)
    objects = owned_objects(env)
    node_classes = [m for m in objects if m["kind"] == "EC2NodeClass"]
    keys = {m["parameters"]["kmsKeyId"] for m in objects if m["kind"] == "StorageClass" and "kmsKeyId" in m.get("parameters", {})}
    assert len(keys) == 1, keys
    (key,) = keys
    assert key.endswith(f":alias/{ebs_key_alias(env.cluster.name)}") and f":kms:{env.region}:" in key
    assert node_classes or not env.karpenter.pools
    for node_class in node_classes:
        for mapping in node_class["spec"]["blockDeviceMappings"]:
            assert mapping["ebs"]["encrypted"] is True and mapping["ebs"]["kmsKeyID"] == key, json.dumps(mapping)
