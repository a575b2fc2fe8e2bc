"""Fluent Bit on every node: each container's log file to the cluster's pod log group, one stream per
namespace, pod and container, through IRSA. The group is the AWS layer's (retention, KMS): the
shipper never creates one.

It reads the node's /var/log through hostPath, so its namespace is a Pod Security exception
(eksml/k8s/model/pod_security_levels.py). It tolerates every taint: GPU nodes log too.
"""

from __future__ import annotations

from typing import Any

from eksml.components.fluent_bit import AWS_FOR_FLUENT_BIT
from eksml.contract.names import pod_log_group_name
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext

STREAM_TEMPLATE = "$kubernetes['namespace_name'].$kubernetes['pod_name'].$kubernetes['container_name']"


class FluentBit(DescribedComponent):
    spec = AWS_FOR_FLUENT_BIT

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(AWS_FOR_FLUENT_BIT)
        return {
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "cloudWatchLogs": {
                "enabled": True,
                "region": ctx.env.region,
                "logGroupName": pod_log_group_name(ctx.env.cluster.name),
                "logStreamTemplate": STREAM_TEMPLATE,
                # The plugin needs a name or prefix besides the template: used when the template fails.
                "logStreamPrefix": "unresolved-",
                "autoCreateGroup": False,
            },
            "serviceMonitor": {"enabled": ctx.monitoring_enabled},
        }
