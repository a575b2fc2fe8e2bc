"""What the Kubernetes layer needs from the AWS layer, read from Terraform outputs or predicted.

Names are deterministic (derived from the environment), so the Kubernetes layer can be rendered
before any apply; after an apply the real values from `terraform output` replace the prediction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eksml.config.models import Environment

# Service accounts that get an IRSA role: key -> (namespace, service account name).
IRSA_SERVICE_ACCOUNTS: dict[str, tuple[str, str]] = {
    "ebs-csi": ("kube-system", "ebs-csi-controller-sa"),
    "efs-csi": ("kube-system", "efs-csi-controller-sa"),
    "aws-load-balancer-controller": ("kube-system", "aws-load-balancer-controller"),
    "karpenter": ("karpenter", "karpenter"),
    "mlflow": ("mlflow", "mlflow"),
    "kserve": ("kserve", "kserve-models"),
    "argo-workflows": ("argo", "argo-workflow"),
    "external-secrets": ("external-secrets", "external-secrets"),
}

# Terraform output names, per stack, that `from_terraform` reads. The stacks must define exactly these.
STACK_OUTPUTS: dict[str, tuple[str, ...]] = {
    "network": ("vpc_id", "private_subnet_ids", "public_subnet_ids"),
    "cluster": ("cluster_name", "cluster_endpoint", "cluster_security_group_id", "oidc_provider_arn"),
    "data": ("bucket_names", "efs_file_system_id", "db_endpoint", "db_port", "db_name", "db_master_secret_arn"),
    "karpenter": ("karpenter_interruption_queue_name", "karpenter_node_role_name"),
    "platform": ("irsa_role_arns",),
}

DEFAULT_ACCOUNT_ID = "123456789012"  # the emulator's account; also used when predicting for a file without account_id


def role_name(env: Environment, key: str) -> str:
    return f"{env.cluster.name}-{key}"[:64]


@dataclass(frozen=True)
class PlatformOutputs:
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
    def predict(cls, env: Environment) -> "PlatformOutputs":
        """Values an apply would produce, from names alone; secrets and endpoints are placeholders."""
        account = env.account_id or DEFAULT_ACCOUNT_ID
        arn = f"arn:aws:iam::{account}"
        return cls(
            cluster_name=env.cluster.name,
            region=env.region,
            account_id=account,
            oidc_provider_arn=f"{arn}:oidc-provider/oidc.eks.{env.region}.amazonaws.com/id/PREDICTED",
            irsa_role_arns={key: f"{arn}:role/{role_name(env, key)}" for key in IRSA_SERVICE_ACCOUNTS},
            bucket_names={item: env.bucket_name(item) for item in env.storage.buckets},
            db_endpoint=f"{env.cluster.name}-mlflow.predicted.{env.region}.rds.amazonaws.com",
            db_port=5432,
            db_name="mlflow",
            db_master_secret_arn=f"arn:aws:secretsmanager:{env.region}:{account}:secret:rds!db-predicted",
            karpenter_interruption_queue_name=f"{env.cluster.name}-karpenter",
            karpenter_node_role_name=role_name(env, "karpenter-node"),
            efs_file_system_id="fs-predicted" if env.storage.efs else None,
            predicted=True,
        )

    @classmethod
    def from_terraform(cls, env: Environment, outputs_by_stack: dict[str, dict]) -> "PlatformOutputs":
        """`outputs_by_stack` maps stack name -> `terraform output -json` (each value a {"value": ...})."""
        values = {
            name: item["value"] if isinstance(item, dict) and "value" in item else item
            for stack_outputs in outputs_by_stack.values()
            for name, item in stack_outputs.items()
        }
        predicted = cls.predict(env)
        return cls(
            cluster_name=values.get("cluster_name", predicted.cluster_name),
            region=env.region,
            account_id=_account_from_arn(values.get("oidc_provider_arn")) or predicted.account_id,
            oidc_provider_arn=values.get("oidc_provider_arn", predicted.oidc_provider_arn),
            irsa_role_arns=values.get("irsa_role_arns", predicted.irsa_role_arns),
            bucket_names=values.get("bucket_names", predicted.bucket_names),
            db_endpoint=values.get("db_endpoint", predicted.db_endpoint),
            db_port=int(values.get("db_port", predicted.db_port)),
            db_name=values.get("db_name", predicted.db_name),
            db_master_secret_arn=values.get("db_master_secret_arn", predicted.db_master_secret_arn),
            karpenter_interruption_queue_name=values.get(
                "karpenter_interruption_queue_name", predicted.karpenter_interruption_queue_name
            ),
            karpenter_node_role_name=values.get("karpenter_node_role_name", predicted.karpenter_node_role_name),
            efs_file_system_id=values.get("efs_file_system_id") or None,
            cluster_endpoint=values.get("cluster_endpoint"),
            vpc_id=values.get("vpc_id"),
            predicted=False,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "PlatformOutputs":
        return cls(**json.loads(path.read_text()))


def _account_from_arn(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None
