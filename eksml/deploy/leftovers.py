"""Resources that controllers in the cluster created outside Terraform.

Load balancers (AWS Load Balancer Controller), volumes (EBS CSI), their security groups and
Karpenter's instances block `terraform destroy` of the VPC until they are gone — the classic
"destroy hangs on a forgotten load balancer". We find them by the tags those controllers set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import boto3

from eksml.contract.names import EKS_CLUSTER_NAME_TAG, LOAD_BALANCER_CLUSTER_TAG, cluster_tag
from eksml.contract.names import ENVIRONMENT_TAG


@dataclass(frozen=True)
class Leftover:
    kind: str  # load-balancer | volume | security-group | instance
    identifier: str
    why: str  # the tag that ties it to the cluster

    def __str__(self) -> str:
        return f"{self.kind} {self.identifier} ({self.why})"


def _cluster_tag_filters(cluster: str) -> list[tuple[str, list[str] | None]]:
    # Only tags that name this cluster: `ebs.csi.aws.com/cluster=true` alone would match every
    # cluster's volumes in the account (the EBS CSI add-on is configured with k8sTagClusterId).
    return [
        (cluster_tag(cluster), ["owned"]),
        (LOAD_BALANCER_CLUSTER_TAG, [cluster]),
        ("karpenter.k8s.aws/cluster", [cluster]),
        (EKS_CLUSTER_NAME_TAG, [cluster]),
    ]


def find_leftovers(cluster: str, vpc_id: str | None, session: boto3.session.Session) -> list[Leftover]:
    """Everything in the cluster's VPC (or tagged for the cluster) that Terraform did not create."""
    ec2 = session.client("ec2")
    elbv2 = session.client("elbv2")
    found: list[Leftover] = []

    for lb in elbv2.describe_load_balancers().get("LoadBalancers", []):
        if vpc_id and lb.get("VpcId") != vpc_id:
            continue
        tags = {t["Key"]: t["Value"] for d in elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"] for t in d["Tags"]}
        if tags.get(LOAD_BALANCER_CLUSTER_TAG) == cluster or tags.get(cluster_tag(cluster)) == "owned":
            found.append(Leftover("load-balancer", lb["LoadBalancerArn"], "created by the AWS Load Balancer Controller"))

    seen: set[tuple[str, str]] = set()
    for key, values in _cluster_tag_filters(cluster):
        tag_filter = [{"Name": f"tag:{key}", "Values": values}]
        for volume in ec2.describe_volumes(Filters=tag_filter).get("Volumes", []):
            if ("volume", volume["VolumeId"]) not in seen and volume.get("State") != "deleting":
                seen.add(("volume", volume["VolumeId"]))
                found.append(Leftover("volume", volume["VolumeId"], f"tag {key}"))
        groups_filter = tag_filter + ([{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else [])
        for group in ec2.describe_security_groups(Filters=groups_filter).get("SecurityGroups", []):
            if ("security-group", group["GroupId"]) not in seen and _not_terraform_managed(group.get("Tags", [])):
                seen.add(("security-group", group["GroupId"]))
                found.append(Leftover("security-group", group["GroupId"], f"tag {key}"))
        running = tag_filter + [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        for reservation in ec2.describe_instances(Filters=running).get("Reservations", []):
            for instance in reservation["Instances"]:
                if ("instance", instance["InstanceId"]) not in seen and _not_terraform_managed(instance.get("Tags", [])):
                    seen.add(("instance", instance["InstanceId"]))
                    found.append(Leftover("instance", instance["InstanceId"], f"tag {key}"))
    return found


def _not_terraform_managed(tags: list[dict]) -> bool:
    """Our stacks tag everything with eksml.io/environment (default_tags); controllers' resources lack it."""
    return not any(tag["Key"] == ENVIRONMENT_TAG for tag in tags)


def remove_leftovers(leftovers: list[Leftover], session: boto3.session.Session, log: Callable[[str], None]) -> None:
    """Instances and load balancers first: volumes and security groups are in use until they are gone."""
    ec2 = session.client("ec2")
    elbv2 = session.client("elbv2")
    order = {"instance": 0, "load-balancer": 1, "volume": 2, "security-group": 3}
    for leftover in sorted(leftovers, key=lambda item: order[item.kind]):
        log(f"removing {leftover}")
        if leftover.kind == "instance":
            ec2.terminate_instances(InstanceIds=[leftover.identifier])
        elif leftover.kind == "load-balancer":
            elbv2.delete_load_balancer(LoadBalancerArn=leftover.identifier)
        elif leftover.kind == "volume":
            ec2.delete_volume(VolumeId=leftover.identifier)
        elif leftover.kind == "security-group":
            ec2.delete_security_group(GroupId=leftover.identifier)
