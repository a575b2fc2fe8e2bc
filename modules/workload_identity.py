"""IAM roles for Kubernetes service accounts (IRSA), each trusted by exactly one service account."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformLocal
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from eksml.contract.names import ServiceAccount, role_name
from modules.iam_policy import Condition, PolicyDocument, Statement

STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class RolePermissions:
    managed_policy_arns: tuple[str, ...] = ()
    statements: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class IrsaRoleSpec:
    key: str
    role_name: str
    namespace: str
    service_account: str
    permissions: RolePermissions


@dataclass(frozen=True)
class WorkloadIdentityProps:
    oidc_provider_arn: str
    oidc_issuer: str  # the cluster's issuer URL, https://oidc.eks.<region>.amazonaws.com/id/<ID>
    roles: tuple[IrsaRoleSpec, ...]

    @classmethod
    def for_accounts(
        cls,
        cluster_name: str,
        *,
        oidc_provider_arn: str,
        oidc_issuer: str,
        accounts: dict[str, tuple[ServiceAccount, RolePermissions]],
    ) -> "WorkloadIdentityProps":
        """One role per identity key, named after the cluster, trusted by that key's service account."""
        roles = tuple(
            IrsaRoleSpec(key, role_name(cluster_name, key), account.namespace, account.name, granted)
            for key, (account, granted) in accounts.items()
        )
        return cls(oidc_provider_arn, oidc_issuer, roles)


def trust_policy(oidc_provider_arn: str, oidc_issuer_host: str, namespace: str, service_account: str) -> str:
    """Only this service account's projected token, issued for STS, can assume the role."""
    return PolicyDocument(
        (
            Statement(
                sid="ServiceAccountWebIdentity",
                actions=("sts:AssumeRoleWithWebIdentity",),
                resources=(),
                principals=(("Federated", (oidc_provider_arn,)),),
                conditions=(
                    Condition("StringEquals", f"{oidc_issuer_host}:sub",
                              (f"system:serviceaccount:{namespace}:{service_account}",)),
                    Condition("StringEquals", f"{oidc_issuer_host}:aud", (STS_AUDIENCE,)),
                ),
            ),
        )
    ).to_json()


class WorkloadIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: WorkloadIdentityProps) -> None:
        super().__init__(scope, construct_id)
        # Claim keys are the issuer without its scheme. Computed in a local so the trust policies
        # stay plain JSON with a simple reference (no quoted function arguments inside them).
        issuer_host = TerraformLocal(self, "oidc-issuer-host", Fn.replace(props.oidc_issuer, "https://", ""))
        self.roles: dict[str, IamRole] = {}
        for spec in props.roles:
            role = IamRole(
                self, spec.key, name=spec.role_name,
                assume_role_policy=trust_policy(
                    props.oidc_provider_arn, issuer_host.as_string, spec.namespace, spec.service_account
                ),
            )
            for index, policy_arn in enumerate(spec.permissions.managed_policy_arns):
                IamRolePolicyAttachment(self, f"{spec.key}-managed-{index}", role=role.name, policy_arn=policy_arn)
            if spec.permissions.statements:
                IamRolePolicy(
                    self, f"{spec.key}-inline", name=spec.key, role=role.id,
                    policy=PolicyDocument(spec.permissions.statements).to_json(),
                )
            self.roles[spec.key] = role
        self.role_arns: dict[str, str] = {key: role.arn for key, role in self.roles.items()}
