"""What the Kubernetes layer needs from the AWS layer, read from Terraform outputs or predicted.

Names are deterministic (derived from the environment), so the Kubernetes layer can be rendered
before any apply; after an apply the real values from `terraform output` replace the prediction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from collections.abc import Iterable, Mapping

from eksml.contract.names import (
    DATABASE_NAME,
    DATABASE_PORT,
    KARPENTER_NODE_ROLE,
    Output,
    database_identifier,
    karpenter_queue_name,
    role_name,
)

DEFAULT_ACCOUNT_ID = "123456789012"  # the emulator's account; also used when predicting for a file without account_id


@dataclass(frozen=True)
class AwsOutputs:
    cluster_name: str
    region: str
    account_id: str
    oidc_provider_arn: str
    irsa_role_arns: dict[str, str]
    bucket_names: dict[str, str]
    db_endpoint: str
    db_port: int
    db_name: str
    db_master_secret_arn: str
    karpenter_interruption_queue_name: str
    karpenter_node_role_name: str
    efs_file_system_id: str | None = None
    cluster_endpoint: str | None = None
    vpc_id: str | None = None
    predicted: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def predict(
        cls, *, cluster_name: str, region: str, account_id: str | None, bucket_names: Mapping[str, str],
        irsa_keys: Iterable[str], has_efs: bool,
    ) -> "AwsOutputs":
        """Values an apply would produce, from names alone; secrets and endpoints are placeholders."""
        account = account_id or DEFAULT_ACCOUNT_ID
        arn = f"arn:aws:iam::{account}"
        cluster = cluster_name
        return cls(
            cluster_name=cluster,
            region=region,
            account_id=account,
            oidc_provider_arn=f"{arn}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/PREDICTED",
            irsa_role_arns={key: f"{arn}:role/{role_name(cluster, key)}" for key in irsa_keys},
            bucket_names=dict(bucket_names),
            db_endpoint=f"{database_identifier(cluster)}.predicted.{region}.rds.amazonaws.com",
            db_port=DATABASE_PORT,
            db_name=DATABASE_NAME,
            db_master_secret_arn=f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-predicted",
            karpenter_interruption_queue_name=karpenter_queue_name(cluster),
            karpenter_node_role_name=role_name(cluster, KARPENTER_NODE_ROLE),
            efs_file_system_id="fs-predicted" if has_efs else None,
            predicted=True,
        )

    @classmethod
    def from_terraform(cls, predicted: "AwsOutputs", outputs_by_stack: dict[str, dict]) -> "AwsOutputs":
        """The prediction with every value an apply reported put in its place. `outputs_by_stack` maps
        stack name -> `terraform output -json` (each value a {"value": ...})."""
        values = {
            name: item["value"] if isinstance(item, dict) and "value" in item else item
            for stack_outputs in outputs_by_stack.values()
            for name, item in stack_outputs.items()
        }

        def value(output: Output):
            return values.get(output, getattr(predicted, output))

        return cls(
            cluster_name=value(Output.CLUSTER_NAME),
            region=predicted.region,
            account_id=_account_from_arn(values.get(Output.OIDC_PROVIDER_ARN)) or predicted.account_id,
            oidc_provider_arn=value(Output.OIDC_PROVIDER_ARN),
            irsa_role_arns=value(Output.IRSA_ROLE_ARNS),
            bucket_names=value(Output.BUCKET_NAMES),
            db_endpoint=value(Output.DB_ENDPOINT),
            db_port=int(value(Output.DB_PORT)),
            db_name=value(Output.DB_NAME),
            db_master_secret_arn=value(Output.DB_MASTER_SECRET_ARN),
            karpenter_interruption_queue_name=value(Output.KARPENTER_INTERRUPTION_QUEUE_NAME),
            karpenter_node_role_name=value(Output.KARPENTER_NODE_ROLE_NAME),
            efs_file_system_id=values.get(Output.EFS_FILE_SYSTEM_ID) or None,
            cluster_endpoint=values.get(Output.CLUSTER_ENDPOINT),
            vpc_id=values.get(Output.VPC_ID),
            predicted=False,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "AwsOutputs":
        return cls(**json.loads(path.read_text()))


def _account_from_arn(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None
