"""Subnet plan: the one place that decides subnet CIDRs, used by validation and the network construct."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from eksml.config.models import NetworkConfig

# Private subnets hold every pod IP (VPC CNI), so they get the lion's share of the VPC.
_PRIVATE_SHARE_BITS = 2  # the VPC is cut into 4 blocks; up to 3 private subnets get one each...
_PUBLIC_PREFIX_EXTRA = 8  # ...public subnets are /24s (for a /16 VPC) carved from the last block


@dataclass(frozen=True)
class SubnetPlan:
    private: tuple[str, ...]
    public: tuple[str, ...]


def plan_subnets(network: NetworkConfig, zone_count: int) -> SubnetPlan:
    """Explicit subnets win; otherwise derive one private and one public subnet per zone.

    Raises ValueError when the VPC is too small to derive a plan.
    """
    if network.private_subnets is not None and network.public_subnets is not None:
        return SubnetPlan(tuple(network.private_subnets), tuple(network.public_subnets))
    vpc = ipaddress.ip_network(network.vpc_cidr)
    if vpc.prefixlen > 20:
        raise ValueError(
            f"vpc_cidr {vpc} is too small to derive subnets (use /20 or larger, or list "
            "private_subnets and public_subnets explicitly)"
        )
    share_bits = _PRIVATE_SHARE_BITS if zone_count <= 3 else 3
    blocks = list(vpc.subnets(prefixlen_diff=share_bits))
    private = tuple(str(block) for block in blocks[:zone_count])
    public_pool = blocks[-1]
    public_prefix = min(vpc.prefixlen + _PUBLIC_PREFIX_EXTRA, 28)
    public_blocks = list(public_pool.subnets(new_prefix=max(public_prefix, public_pool.prefixlen + 3)))
    public = tuple(str(block) for block in public_blocks[:zone_count])
    return SubnetPlan(
        private=tuple(network.private_subnets) if network.private_subnets is not None else private,
        public=tuple(network.public_subnets) if network.public_subnets is not None else public,
    )
