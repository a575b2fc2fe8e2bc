"""Platform stack: the grants between the cluster and the rest — IRSA roles of the applications and
the security group rules that let cluster nodes reach EFS and the database.

It reads every other stack, so it is applied last and holds nothing that is slow to create.
"""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from eksml.errors import StageError
from modules import irsa_policies
from modules.ingress_from_group import IngressFromGroup, IngressFromGroupProps
from modules.shared_filesystem import NFS_PORT
from modules.workload_identity import WorkloadIdentity, WorkloadIdentityProps
from eksml.components import identities
from eksml.config.components import component_enabled
from eksml.contract.names import (
    ARTIFACTS_BUCKET, BACKUPS_BUCKET, DATABASE_PORT, DATASETS_BUCKET, Output, ServiceAccount, StackName,
)
from stacks.base import EnvironmentStack, StackSettings
from stacks.cluster import ClusterStack
from stacks.data import DataStack
from stacks.karpenter import KarpenterStack


def bucket_store(data: DataStack, item: str) -> irsa_policies.ArtifactStore | None:
    """One of the data stack's buckets (all share its KMS key), when the environment has it."""
    arn = data.buckets.bucket_arns.get(item)
    return irsa_policies.ArtifactStore(bucket_arn=arn, key_arn=data.buckets.key_arn) if arn else None


class PlatformStack(EnvironmentStack):
    def __init__(
        self, scope: Construct, settings: StackSettings, env: Environment, cluster: ClusterStack, data: DataStack,
        karpenter: KarpenterStack,
    ) -> None:
        super().__init__(scope, StackName.PLATFORM, settings)
        if ARTIFACTS_BUCKET not in data.buckets.bucket_arns:
            raise StageError("synth", f"storage.buckets of '{env.name}' has no '{ARTIFACTS_BUCKET}' bucket",
                             hint="MLflow, KServe and Argo Workflows keep their artifacts there")
        eks = cluster.cluster
        stores = [("mlflow-db", data.database.security_group_id, DATABASE_PORT, "PostgreSQL from cluster nodes")]
        if data.filesystem is not None:
            stores.append(("efs", data.filesystem.security_group_id, NFS_PORT, "NFS from cluster nodes"))
        for key, security_group_id, port, description in stores:
            IngressFromGroup(self, f"{key}-from-cluster", IngressFromGroupProps(
                security_group_id=security_group_id, source_security_group_id=cluster.security_group_id,
                port=port, description=description,
            ))
        store = irsa_policies.ArtifactStore(bucket_arn=data.buckets.bucket_arns[ARTIFACTS_BUCKET],
                                            key_arn=data.buckets.key_arn)
        prerequisites = karpenter.karpenter
        targets = irsa_policies.GrantTargets(
            aws=self.aws, cluster_name=env.cluster.name, cluster_arn=eks.arn, store=store,
            db_master_secret_arn=data.database.master_secret_arn,
            karpenter_node_role_arn=prerequisites.node_role_arn, karpenter_queue_arn=prerequisites.queue_arn,
            pod_log_group_arn=cluster.pod_logs.arn, volume_key_arn=cluster.ebs_key.key_arn,
            backups=bucket_store(data, BACKUPS_BUCKET), datasets=bucket_store(data, DATASETS_BUCKET),
        )
        self.identity = WorkloadIdentity(
            self, "app-identity",
            WorkloadIdentityProps.for_accounts(
                env.cluster.name,
                oidc_provider_arn=eks.oidc_provider_arn,
                oidc_issuer=eks.oidc_issuer,
                accounts={
                    identity.key: (ServiceAccount(spec.namespace, identity.service_account),
                                   irsa_policies.permissions_for(spec, targets))
                    for spec, identity in identities() if component_enabled(env, spec)
                },
            ),
        )
        role_arns = {**cluster.addon_identity.role_arns, **self.identity.role_arns}
        self.output(Output.IRSA_ROLE_ARNS, role_arns, "IAM role ARN per IRSA service account key")
