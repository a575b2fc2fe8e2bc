"""EKS managed add-ons: networking, DNS and the CSI drivers, updated by EKS with the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from constructs import Construct

# Add-ons the data plane needs before anything is scheduled; the rest need running nodes.
_NETWORK_ADDONS = ("vpc-cni", "kube-proxy")


@dataclass(frozen=True)
class AddonSpec:
    name: str
    service_account_role_arn: str | None = None
    configuration_values: str | None = None  # the add-on's own JSON settings


@dataclass(frozen=True)
class ClusterAddonsProps:
    cluster_name: str
    addons: tuple[AddonSpec, ...]
    # Node groups: coredns and the CSI controllers stay DEGRADED (and the apply hangs) without nodes.
    nodes: tuple[ITerraformDependable, ...] = ()


class ClusterAddons(Construct):
    """Versions are left to EKS (the default for the cluster's Kubernetes version), so a cluster
    upgrade brings compatible add-ons; conflicts with self-managed copies are overwritten."""

    def __init__(self, scope: Construct, construct_id: str, props: ClusterAddonsProps) -> None:
        super().__init__(scope, construct_id)
        self.addons: dict[str, EksAddon] = {}
        for addon in props.addons:
            needs_nodes = addon.name not in _NETWORK_ADDONS
            self.addons[addon.name] = EksAddon(
                self, addon.name,
                cluster_name=props.cluster_name,
                addon_name=addon.name,
                service_account_role_arn=addon.service_account_role_arn,
                configuration_values=addon.configuration_values,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                depends_on=list(props.nodes) if needs_nodes else None,
            )
