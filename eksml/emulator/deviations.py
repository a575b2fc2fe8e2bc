"""Where the emulator target differs from AWS, stated explicitly (the deploy summary prints them)."""

from __future__ import annotations

# Resource types left out when the target is the emulator: moto 5.2.5 answers 404 for them (the
# backup selection: moto has AWS Backup vaults and plans, not selections). It has no placement groups
# either (CreatePlacementGroup is not implemented): EFA pools' launch templates name none there.
NOT_EMULATED: tuple[str, ...] = ("aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_addon",
                                  "aws_backup_selection", "aws_placement_group")

# What stands in, on the emulator, for values it does not produce.
EMULATOR_STAND_INS: dict[str, str] = {
    "cluster security group": "moto's EKS returns none; an empty VPC security group stands in for it",
}

# Attributes the emulator does not store or echoes back differently, ignored on the emulator only
# so that a second apply plans no changes (real AWS manages and compares all of them).
EMULATOR_IGNORED_CHANGES: dict[str, tuple[str, ...]] = {
    "aws_eks_cluster": ("access_config",),  # not returned by moto's DescribeCluster
    "aws_eks_node_group": ("remote_access", "update_config"),  # moto invents the one, drops the other
    "aws_launch_template": ("tag_specifications",),  # moto adds a launch-template tag specification
    "aws_db_instance": (  # Performance Insights settings are not kept by moto
        "performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period",
    ),
    "aws_db_parameter_group": ("parameter",),  # moto does not return custom parameters
    "aws_vpc_security_group_ingress_rule": ("description",),  # dropped for group-to-group rules by moto
}
