"""Platform stack: IRSA roles of the applications and Karpenter's AWS prerequisites."""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from eksml.errors import StageError
from modules import irsa_policies
from modules.karpenter import KarpenterPrerequisites, KarpenterProps
from modules.workload_identity import WorkloadIdentity, WorkloadIdentityProps
from stacks.base import PlatformStack, StackSettings
from stacks.cluster import ClusterStack
from stacks.data import DataStack

ARTIFACTS_BUCKET = "artifacts"


class PlatformAppsStack(PlatformStack):
    def __init__(
        self, scope: Construct, settings: StackSettings, env: Environment, cluster: ClusterStack, data: DataStack
    ) -> None:
        super().__init__(scope, "platform", settings)
        if ARTIFACTS_BUCKET not in data.buckets.bucket_arns:
            raise StageError("synth", f"storage.buckets of '{env.name}' has no '{ARTIFACTS_BUCKET}' bucket",
                             hint="MLflow, KServe and Argo Workflows keep their artifacts there")
        eks = cluster.cluster
        self.karpenter = KarpenterPrerequisites(
            self, "karpenter", KarpenterProps.from_environment(env, cluster_name=eks.name, aws=self.aws)
        )
        store = irsa_policies.ArtifactStore(bucket_arn=data.buckets.bucket_arns[ARTIFACTS_BUCKET],
                                            key_arn=data.buckets.key_arn)
        self.identity = WorkloadIdentity(
            self, "app-identity",
            WorkloadIdentityProps.from_environment(
                env,
                oidc_provider_arn=eks.oidc_provider_arn,
                oidc_issuer=eks.oidc_issuer,
                permissions={
                    "aws-load-balancer-controller": irsa_policies.aws_load_balancer_controller(
                        self.aws, cluster_name=env.cluster.name),
                    "karpenter": irsa_policies.karpenter(
                        self.aws, cluster_name=env.cluster.name, cluster_arn=eks.arn,
                        node_role_arn=self.karpenter.node_role_arn, queue_arn=self.karpenter.queue_arn),
                    "mlflow": irsa_policies.mlflow(self.aws, store),
                    "kserve": irsa_policies.kserve(self.aws, store),
                    "argo-workflows": irsa_policies.argo_workflows(self.aws, store),
                    "external-secrets": irsa_policies.external_secrets(data.database.master_secret_arn),
                },
            ),
        )
        role_arns = {**cluster.addon_identity.role_arns, **self.identity.role_arns}
        self.output("irsa_role_arns", role_arns, "IAM role ARN per IRSA service account key")
        self.output("karpenter_interruption_queue_name", self.karpenter.queue_name, "SQS queue of interruption events")
        self.output("karpenter_node_role_name", self.karpenter.node_role_name, "IAM role of nodes Karpenter launches")
