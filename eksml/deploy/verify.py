"""After an apply, ask AWS itself whether the platform the environment describes is there.

Terraform's state says what it believes; this reads the live API (or the emulator's), so a
resource deleted by hand or stuck in a failed state shows up here and not weeks later.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from eksml.config import Environment
from eksml.contract.names import POOL_LABEL
from eksml.contract.outputs import AwsOutputs


def verify_aws(env: Environment, outputs: AwsOutputs, session: boto3.session.Session) -> list[str]:
    problems: list[str] = []
    eks = session.client("eks")
    try:
        cluster = eks.describe_cluster(name=outputs.cluster_name)["cluster"]
        if cluster.get("status") not in ("ACTIVE", "UPDATING"):
            problems.append(f"cluster {outputs.cluster_name} is {cluster.get('status')}")
    except ClientError as exc:
        return [f"cluster {outputs.cluster_name}: {exc.response['Error']['Message']}"]

    pools_found = {}
    for name in eks.list_nodegroups(clusterName=outputs.cluster_name).get("nodegroups", []):
        group = eks.describe_nodegroup(clusterName=outputs.cluster_name, nodegroupName=name)["nodegroup"]
        pool = (group.get("labels") or {}).get(POOL_LABEL)
        if pool:
            pools_found[pool] = group
    for pool_name, pool in env.node_pools.items():
        group = pools_found.get(pool_name)
        if group is None:
            problems.append(f"node pool {pool_name}: no node group labelled eksml.io/pool={pool_name}")
        elif sorted(group.get("instanceTypes") or []) != sorted(pool.instance_types):
            problems.append(f"node pool {pool_name}: instance types {group.get('instanceTypes')} differ from {pool.instance_types}")

    s3 = session.client("s3")
    for item, bucket in outputs.bucket_names.items():
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            problems.append(f"bucket {bucket} ({item}) is missing")

    rds = session.client("rds")
    instances = rds.describe_db_instances().get("DBInstances", [])
    if not any(db.get("Endpoint", {}).get("Address") == outputs.db_endpoint for db in instances):
        problems.append(f"no database answers at {outputs.db_endpoint}")

    sqs = session.client("sqs")
    try:
        sqs.get_queue_url(QueueName=outputs.karpenter_interruption_queue_name)
    except ClientError:
        problems.append(f"Karpenter interruption queue {outputs.karpenter_interruption_queue_name} is missing")
    return problems
