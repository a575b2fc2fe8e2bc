"""Stand-in outputs for a preview: shaped like real values, and a state terraform really reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

from eksml.aws.preview import StandInContext, backend_location, stand_in_state
from eksml.terraform import Terraform, prepare_terraform

CONTEXT = StandInContext(region="eu-west-1", account_id="210987654321")

UPSTREAM = {
    "terraform": {"backend": {"s3": {"bucket": "tfstate", "key": "platform/dev/network.tfstate"}}},
    "resource": {
        "aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16"}},
        "aws_subnet": {"a": {"cidr_block": "10.0.0.0/24"}, "b": {"cidr_block": "10.0.1.0/24"}},
        "aws_s3_bucket": {"artifacts": {"bucket": "ml-artifacts"}},
        "aws_iam_role": {"node": {"name": "ml-node"}},
        "aws_iam_openid_connect_provider": {"oidc": {"url": "${aws_eks_cluster.eks.identity[0].oidc[0].issuer}"}},
        "aws_eks_cluster": {"eks": {"name": "ml-dev"}},
        "aws_kms_key": {"key": {"description": "x"}},
        "aws_db_instance": {"db": {"identifier": "ml-mlflow", "port": 5432}},
    },
    "output": {
        "vpc_id": {"value": "${aws_vpc.vpc.id}"},
        "private_subnet_ids": {"value": ["${aws_subnet.a.id}", "${aws_subnet.b.id}"]},
        "bucket_names": {"value": {"artifacts": "${aws_s3_bucket.artifacts.bucket}"}},
        "bucket_arn": {"value": "${aws_s3_bucket.artifacts.arn}"},
        "node_role_arn": {"value": "${aws_iam_role.node.arn}"},
        "oidc_provider_arn": {"value": "${aws_iam_openid_connect_provider.oidc.arn}"},
        "issuer_host": {"value": "${replace(aws_eks_cluster.eks.identity[0].oidc[0].issuer, \"https://\", \"\")}"},
        "cluster_name": {"value": "${aws_eks_cluster.eks.name}"},
        "key_arn": {"value": "${aws_kms_key.key.arn}"},
        "db_port": {"value": "${aws_db_instance.db.port}"},
        "db_secret": {"value": "${aws_db_instance.db.master_user_secret[0].secret_arn}"},
        "literal": {"value": "kept as is"},
    },
}


def _state(tmp_path: Path) -> dict:
    config = tmp_path / "cdk.tf.json"
    config.write_text(json.dumps(UPSTREAM))
    return stand_in_state(config, CONTEXT)


def test_stand_ins_look_like_the_real_values(tmp_path):
    outputs = {name: output["value"] for name, output in _state(tmp_path)["outputs"].items()}
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", outputs["vpc_id"])
    first, second = outputs["private_subnet_ids"]
    assert first.startswith("subnet-") and second.startswith("subnet-") and first != second
    assert outputs["bucket_names"] == {"artifacts": "ml-artifacts"}  # literal names from the configuration
    assert outputs["bucket_arn"] == "arn:aws:s3:::ml-artifacts"
    assert outputs["node_role_arn"] == "arn:aws:iam::210987654321:role/ml-node"
    assert re.fullmatch(r"arn:aws:iam::210987654321:oidc-provider/oidc\.eks\.eu-west-1\.amazonaws\.com/id/[0-9A-F]{32}",
                        outputs["oidc_provider_arn"])
    assert outputs["issuer_host"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
    assert outputs["cluster_name"] == "ml-dev"
    assert re.fullmatch(r"arn:aws:kms:eu-west-1:210987654321:key/[0-9a-f-]{36}", outputs["key_arn"])
    assert outputs["db_port"] == 5432
    assert outputs["db_secret"].startswith("arn:aws:secretsmanager:eu-west-1:210987654321:secret:rds!db-")
    assert outputs["literal"] == "kept as is"
    assert backend_location(tmp_path / "cdk.tf.json") == ("tfstate", "platform/dev/network.tfstate")


def test_stand_in_state_is_typed_and_holds_no_resources(tmp_path):
    state = _state(tmp_path)
    assert state["version"] == 4 and state["resources"] == []
    assert state["outputs"]["private_subnet_ids"]["type"] == ["tuple", ["string", "string"]]
    assert state["outputs"]["bucket_names"]["type"] == ["object", {"artifacts": "string"}]
    assert state["outputs"]["db_port"]["type"] == "number"
    assert _state(tmp_path)["outputs"]["vpc_id"] == state["outputs"]["vpc_id"]  # deterministic


def test_terraform_reads_the_stand_in_state_as_remote_state(tmp_path):
    upstream_state = tmp_path / "network.tfstate"
    upstream_state.write_text(json.dumps(_state(tmp_path)))
    downstream = tmp_path / "downstream"
    downstream.mkdir()
    (downstream / "main.tf.json").write_text(json.dumps({
        "data": {"terraform_remote_state": {"network": {"backend": "local", "config": {"path": str(upstream_state)}}}},
        "resource": {"terraform_data": {"per_subnet": {
            "for_each": "${toset(data.terraform_remote_state.network.outputs.private_subnet_ids)}",
            "input": "${each.value}",
        }}},
        "output": {"vpc": {"value": "${data.terraform_remote_state.network.outputs.vpc_id}"}},
    }))
    runner = Terraform("downstream", downstream, tmp_path / "data", prepare_terraform(tmp_path / "tf"))
    runner.init()
    plan = runner.plan()
    assert plan.has_changes
    assert len([c for c in plan.changes if c.type == "terraform_data"]) == 2  # one per stand-in subnet
