"""Network rules: region and zones, VPC and subnet sizes, API endpoint exposure, interface endpoints."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.aws_facts import load_aws_facts
from eksml.config.models import Environment, Tier
from eksml.config.network import plan_subnets
from eksml.config.rule_base import Finding, needs

# AWS allows VPC and subnet CIDR blocks from /16 to /28
# (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
LARGEST_BLOCK, SMALLEST_BLOCK = 16, 28
# At staging and prod, the public API endpoint may be open to at most this many IPv4 addresses in
# total, a /16's worth (0.0015 % of the IPv4 space): enough for offices and VPN egress ranges, far
# from "the internet" however the CIDRs are split (two /1s are 0.0.0.0/0).
MAX_PUBLIC_API_ADDRESSES = 2**16
GUARDED_TIERS = (Tier.staging, Tier.prod)


@needs("region", "availability_zones")
def zones_in_region(env: Environment, _: Catalog) -> Iterator[Finding]:
    zones = load_aws_facts().zones_by_region.get(env.region)
    if zones is None:
        yield "region", f"'{env.region}' is not an AWS Region the catalog knows (eksml/catalog/aws_regions.json lists them)"
    seen: set[str] = set()
    for index, zone in enumerate(env.availability_zones):
        if zones is not None and zone not in zones:
            yield (
                f"availability_zones[{index}]",
                f"'{zone}' is not an availability zone of region {env.region}; its zones: {', '.join(zones)}",
            )
        if zone in seen:
            yield f"availability_zones[{index}]", f"'{zone}' is listed twice"
        seen.add(zone)


@needs("network")
def vpc_and_subnet_sizes(env: Environment, _: Catalog) -> Iterator[Finding]:
    allowed = f"AWS allows /{LARGEST_BLOCK} (65,536 addresses) to /{SMALLEST_BLOCK} (16 addresses)"
    vpc = ipaddress.ip_network(env.network.vpc_cidr)
    if not LARGEST_BLOCK <= vpc.prefixlen <= SMALLEST_BLOCK:
        yield "network.vpc_cidr", f"{vpc} is a /{vpc.prefixlen}; {allowed} for a VPC"
    for field in ("private_subnets", "public_subnets"):
        for index, cidr in enumerate(getattr(env.network, field) or []):
            prefix = ipaddress.ip_network(cidr).prefixlen
            if not LARGEST_BLOCK <= prefix <= SMALLEST_BLOCK:
                yield f"network.{field}[{index}]", f"{cidr} is a /{prefix}; {allowed} for a subnet"


@needs("network", "availability_zones")
def subnets_fit_vpc(env: Environment, _: Catalog) -> Iterator[Finding]:
    network = env.network
    vpc = ipaddress.ip_network(network.vpc_cidr)
    zones = len(env.availability_zones)
    for field in ("private_subnets", "public_subnets"):
        given = getattr(network, field)
        if given is not None and len(given) != zones:
            yield f"network.{field}", f"needs one subnet per availability zone ({zones}), got {len(given)}"
    try:
        plan = plan_subnets(network, zones)
    except ValueError as exc:
        yield "network.vpc_cidr", str(exc)
        return
    placed: list[tuple[str, ipaddress.IPv4Network]] = []
    for field, cidrs in (("private_subnets", plan.private), ("public_subnets", plan.public)):
        for index, cidr in enumerate(cidrs):
            path = f"network.{field}[{index}]"
            subnet = ipaddress.ip_network(cidr)
            if not subnet.subnet_of(vpc):
                yield path, f"{subnet} is outside the VPC CIDR {vpc}"
                continue
            for other_path, other in placed:
                if subnet.overlaps(other):
                    yield path, f"{subnet} overlaps {other} ({other_path})"
            placed.append((path, subnet))
    for index, cidr in enumerate(plan.private):
        if ipaddress.ip_network(cidr).prefixlen > 22:
            yield (
                f"network.private_subnets[{index}]",
                f"{cidr} is too small for pods (every pod takes a VPC address); use /22 or larger",
            )


@needs("name", "tier", "cluster")
def public_endpoint_is_narrow(env: Environment, _: Catalog) -> Iterator[Finding]:
    """At staging and prod the public API endpoint may be open to a /16's worth of addresses at most."""
    tier = _tier(env)
    if tier not in GUARDED_TIERS or not env.cluster.endpoint_public_access:
        return
    cidrs = [ipaddress.ip_network(cidr) for cidr in env.cluster.public_access_cidrs]
    if not cidrs:
        yield (
            "cluster.public_access_cidrs",
            f"a public endpoint with no CIDRs is open to 0.0.0.0/0, which {tier.value} forbids; "
            "list narrow CIDRs or set endpoint_public_access: false",
        )
        return
    limit = f"{tier.value} allows at most {MAX_PUBLIC_API_ADDRESSES:,} addresses in total (a /16's worth)"
    single = False
    for index, cidr in enumerate(cidrs):
        if cidr.prefixlen == 0:
            single = True
            yield (
                f"cluster.public_access_cidrs[{index}]",
                f"{cidr} opens the Kubernetes API to the whole internet, which {tier.value} forbids; "
                "use narrow CIDRs (VPN, office) or endpoint_public_access: false",
            )
        elif cidr.num_addresses > MAX_PUBLIC_API_ADDRESSES:
            single = True
            yield (
                f"cluster.public_access_cidrs[{index}]",
                f"{cidr} opens the Kubernetes API to {cidr.num_addresses:,} addresses; {limit}",
            )
    total = sum(net.num_addresses for net in ipaddress.collapse_addresses(cidrs))
    if not single and total > MAX_PUBLIC_API_ADDRESSES:
        yield (
            "cluster.public_access_cidrs",
            f"together these CIDRs open the Kubernetes API to {total:,} addresses; {limit}",
        )


@needs("cluster")
def endpoint_reachable(env: Environment, _: Catalog) -> Iterator[Finding]:
    if not env.cluster.endpoint_public_access and not env.cluster.endpoint_private_access:
        yield "cluster.endpoint_private_access", "with the public endpoint off the private endpoint must be on"


@needs("network")
def interface_endpoints_known(env: Environment, _: Catalog) -> Iterator[Finding]:
    known = load_aws_facts().interface_endpoints
    seen: set[str] = set()
    for index, service in enumerate(env.network.interface_endpoints):
        path = f"network.interface_endpoints[{index}]"
        if not service.strip():
            yield path, "an interface endpoint name must not be empty"
        elif service not in known:
            yield path, f"'{service}' is not an interface endpoint service eksml knows; allowed: {', '.join(known)}"
        elif service in seen:
            yield path, f"'{service}' is listed twice"
        seen.add(service)


def _tier(env: Environment) -> Tier | None:
    try:
        return env.resolved_tier
    except ValueError:
        return None  # no tier: tier_is_known reports it


RULES = (zones_in_region, vpc_and_subnet_sizes, subnets_fit_vpc, public_endpoint_is_narrow, endpoint_reachable,
         interface_endpoints_known)
