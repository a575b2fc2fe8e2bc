"""All stacks of one environment, wired by cdktf cross-stack references."""

from __future__ import annotations

from cdktf import App, TerraformStack

from eksml.config.models import Environment
from eksml.contract.names import StackName
from eksml.emulator.target import AwsTarget
from stacks.base import StackSettings
from stacks.cluster import ClusterStack
from stacks.data import DataStack
from stacks.karpenter import KarpenterStack
from stacks.network import NetworkStack
from stacks.platform import PlatformStack


def build_stacks(app: App, env: Environment, target: AwsTarget) -> dict[StackName, TerraformStack]:
    settings = StackSettings.from_environment(env, target)
    network = NetworkStack(app, settings, env)
    cluster = ClusterStack(app, settings, env, network)
    data = DataStack(app, settings, env, network)
    karpenter = KarpenterStack(app, settings, env, cluster)
    platform = PlatformStack(app, settings, env, cluster, data, karpenter)
    return {
        StackName.NETWORK: network, StackName.CLUSTER: cluster, StackName.DATA: data,
        StackName.KARPENTER: karpenter, StackName.PLATFORM: platform,
    }
