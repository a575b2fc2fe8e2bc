"""Leftovers that controllers create outside Terraform are found by their tags and removed before destroy."""

import boto3
import pytest
from moto import mock_aws

from eksml.deploy.leftovers import find_leftovers, remove_leftovers

CLUSTER = "mlplatform-dev"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def _vpc_with_subnets(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    return vpc, subnets


def test_controller_resources_are_found_and_terraform_ones_are_not(aws):
    ec2, elbv2 = aws.client("ec2"), aws.client("elbv2")
    vpc, subnets = _vpc_with_subnets(ec2)
    controller_sg = ec2.create_security_group(
        GroupName="k8s-ingress", Description="lb controller", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]}],
    )["GroupId"]
    ec2.create_security_group(
        GroupName="cluster", Description="ours", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [
            {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}, {"Key": "eksml.io/environment", "Value": "dev"}]}],
    )
    lb = elbv2.create_load_balancer(
        Name="k8s-inference", Subnets=subnets, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a", Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}]}],
    )["VolumeId"]
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)  # not ours: no cluster tag
    ec2.create_volume(  # another cluster's CSI volume in the same account
        AvailabilityZone="us-east-1a", Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "ebs.csi.aws.com/cluster", "Value": "true"}]}],
    )
    other_cluster_lb = elbv2.create_load_balancer(
        Name="other", Subnets=subnets, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": "someone-else"}]
    )["LoadBalancers"][0]["LoadBalancerArn"]

    found = {(item.kind, item.identifier) for item in find_leftovers(CLUSTER, vpc, aws)}

    assert found == {("load-balancer", lb), ("volume", volume), ("security-group", controller_sg)}
    assert ("load-balancer", other_cluster_lb) not in found


def test_removal_leaves_nothing_behind(aws):
    ec2, elbv2 = aws.client("ec2"), aws.client("elbv2")
    vpc, subnets = _vpc_with_subnets(ec2)
    elbv2.create_load_balancer(Name="k8s-a", Subnets=subnets, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}])
    ec2.create_volume(
        AvailabilityZone="us-east-1b", Size=5,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "ebs.csi.aws.com/cluster", "Value": "true"}, {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}]}],
    )
    log: list[str] = []

    remove_leftovers(find_leftovers(CLUSTER, vpc, aws), aws, log.append)

    assert find_leftovers(CLUSTER, vpc, aws) == []
    assert len(log) == 2 and all(line.startswith("removing ") for line in log)
