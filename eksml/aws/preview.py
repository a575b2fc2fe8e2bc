"""Stand-in outputs for upstream stacks that were planned but not applied, so a preview can plan
every stack without creating anything.

Downstream stacks read upstream outputs through `terraform_remote_state`, which reads only the
`outputs` of the upstream state file. In a throwaway emulator we write such a state file (no
resources, outputs only) with values shaped like the real ones: IDs with the right prefix, ARNs of
the right service, names from the configuration where they are literal. The downstream plan is
then exact in *which* resources it creates and how; attribute values that come from upstream
outputs are placeholders. Applying every upstream stack instead would cost minutes of provider
waits (RDS alone: 80 s) for the same list of changes.

Never used outside a throwaway emulator: a stand-in state in a real backend would be read as truth.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksml.contract.names import DATABASE_PORT

_REFERENCE = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)")

_ID_PREFIXES = {
    "aws_vpc": "vpc-", "aws_subnet": "subnet-", "aws_security_group": "sg-", "aws_efs_file_system": "fs-",
    "aws_route_table": "rtb-", "aws_nat_gateway": "nat-", "aws_internet_gateway": "igw-",
    "aws_launch_template": "lt-", "aws_eip": "eipalloc-", "aws_vpc_endpoint": "vpce-",
    "aws_network_acl": "acl-", "aws_flow_log": "fl-",
}
_ARN_KINDS = {  # resource type -> (service, resource path prefix, regional)
    "aws_iam_role": ("iam", "role/", False),
    "aws_iam_policy": ("iam", "policy/", False),
    "aws_iam_instance_profile": ("iam", "instance-profile/", False),
    "aws_eks_cluster": ("eks", "cluster/", True),
    "aws_eks_node_group": ("eks", "nodegroup/", True),
    "aws_kms_key": ("kms", "key/", True),
    "aws_sqs_queue": ("sqs", "", True),
    "aws_cloudwatch_event_rule": ("events", "rule/", True),
    "aws_efs_file_system": ("elasticfilesystem", "file-system/", True),
    "aws_db_instance": ("rds", "db:", True),
    "aws_secretsmanager_secret": ("secretsmanager", "secret:", True),
    "aws_cloudwatch_log_group": ("logs", "log-group:", True),
}


@dataclass(frozen=True)
class StandInContext:
    region: str
    account_id: str


def stand_in_state(config_file: Path, context: StandInContext) -> dict:
    """A Terraform state (format 4) holding only stand-in values for the stack's outputs."""
    config = json.loads(config_file.read_text())
    resources = config.get("resource", {})
    outputs = {}
    for name, output in config.get("output", {}).items():
        value = _stand_in(output.get("value"), resources, context)
        outputs[name] = {"value": value, "type": _type_of(value)}
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": str(uuid.uuid4()),
        "outputs": outputs,
        "resources": [],
        "check_results": None,
    }


def backend_location(config_file: Path) -> tuple[str, str]:
    """(bucket, key) of the stack's S3 state, from the synthesized configuration."""
    backend = json.loads(config_file.read_text())["terraform"]["backend"]["s3"]
    return backend["bucket"], backend["key"]


def _stand_in(value: Any, resources: dict, context: StandInContext) -> Any:
    if isinstance(value, list):
        return [_stand_in(item, resources, context) for item in value]
    if isinstance(value, dict):
        return {key: _stand_in(item, resources, context) for key, item in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    match = _REFERENCE.search(value)
    if match is None:
        return f"preview-{_digest(value, 12)}"
    resource_type, resource_name, path = match.groups()
    attribute = re.sub(r"\[\d+\]", "", path).strip(".").split(".")[-1]
    block = resources.get(resource_type, {}).get(resource_name, {})
    return _placeholder(resource_type, resource_name, attribute, block, context)


def _placeholder(resource_type: str, resource_name: str, attribute: str, block: dict,
                 context: StandInContext) -> Any:
    seed = f"{resource_type}.{resource_name}.{attribute}"
    name = _literal(block, "name", "bucket", "identifier", "cluster_name", "node_group_name") or resource_name
    if attribute == "port":
        return block.get("port") if isinstance(block.get("port"), int) else DATABASE_PORT
    if attribute == "secret_arn":
        return f"arn:aws:secretsmanager:{context.region}:{context.account_id}:secret:rds!db-{_uuid(seed)}-Ab12Cd"
    if attribute.endswith("arn"):
        return _arn(resource_type, name, seed, context)
    if attribute == "issuer":
        return f"https://oidc.eks.{context.region}.amazonaws.com/id/{_digest(seed, 32).upper()}"
    if attribute == "endpoint":
        return f"https://{_digest(seed, 32).upper()}.gr7.{context.region}.eks.amazonaws.com"
    if attribute == "address":
        return f"{name}.{_digest(seed, 12)}.{context.region}.rds.amazonaws.com"
    if attribute == "id":
        if resource_type == "aws_kms_key":
            return _uuid(seed)
        prefix = _ID_PREFIXES.get(resource_type)
        return f"{prefix}{_digest(seed, 17)}" if prefix else name
    if attribute in ("name", "bucket", "db_name", "identifier") and isinstance(block.get(attribute), str) \
            and "${" not in block[attribute]:
        return block[attribute]
    return f"{name}-preview"


def _arn(resource_type: str, name: str, seed: str, context: StandInContext) -> str:
    if resource_type == "aws_s3_bucket":
        return f"arn:aws:s3:::{name}"
    if resource_type == "aws_iam_openid_connect_provider":
        return (f"arn:aws:iam::{context.account_id}:oidc-provider/oidc.eks.{context.region}.amazonaws.com/id/"
                f"{_digest(seed, 32).upper()}")
    if resource_type == "aws_kms_key":
        return f"arn:aws:kms:{context.region}:{context.account_id}:key/{_uuid(seed)}"
    service, path, regional = _ARN_KINDS.get(resource_type, (resource_type.split("_")[1], "", True))
    region = context.region if regional else ""
    return f"arn:aws:{service}:{region}:{context.account_id}:{path}{name}"


def _literal(block: dict, *keys: str) -> str | None:
    for key in keys:
        value = block.get(key)
        if isinstance(value, str) and "${" not in value:
            return value
    return None


def _type_of(value: Any) -> Any:
    """The cty type JSON terraform writes next to an output value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return ["tuple", [_type_of(item) for item in value]]
    if isinstance(value, dict):
        return ["object", {key: _type_of(item) for key, item in value.items()}]
    return "string"


def _digest(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest()))


def write_stand_in_state(region: str, account_id: str | None, stack_dir: Path, endpoint_url: str) -> dict[str, Any]:
    """Put a stand-in state for the stack synthesized in `stack_dir` into the throwaway emulator;
    returns its output values."""
    from eksml.contract.outputs import DEFAULT_ACCOUNT_ID
    from eksml.emulator.target import emulator_session

    config = stack_dir / "cdk.tf.json"
    state = stand_in_state(config, StandInContext(region=region, account_id=account_id or DEFAULT_ACCOUNT_ID))
    bucket, key = backend_location(config)
    s3 = emulator_session(region).client("s3", endpoint_url=endpoint_url)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(state).encode())
    return {name: output["value"] for name, output in state["outputs"].items()}
