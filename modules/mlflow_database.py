"""PostgreSQL for MLflow's tracking store and model registry."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from eksml.config.models import Environment
from eksml.contract.names import (
    DATABASE_MONITORING_ROLE,
    DATABASE_NAME,
    DATABASE_PORT,
    DATABASE_USER,
    database_identifier,
    role_name,
)
from modules.aws_context import AwsArns
from modules.iam_policy import service_trust
from modules.kms import EncryptionKey, EncryptionKeyProps



@dataclass(frozen=True)
class MlflowDatabaseProps:
    identifier: str
    monitoring_role_name: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    instance_class: str
    allocated_storage_gb: int
    engine_version: str
    multi_az: bool
    deletion_protection: bool
    backup_retention_days: int
    keep_final_snapshot: bool
    aws: AwsArns

    @classmethod
    def from_environment(
        cls, env: Environment, *, vpc_id: str, subnet_ids: list[str], aws: AwsArns
    ) -> "MlflowDatabaseProps":
        db = env.storage.mlflow_db
        return cls(
            identifier=database_identifier(env.cluster.name),
            monitoring_role_name=role_name(env.cluster.name, DATABASE_MONITORING_ROLE),
            vpc_id=vpc_id,
            subnet_ids=tuple(subnet_ids),
            instance_class=db.instance_class,
            allocated_storage_gb=db.allocated_storage_gb,
            engine_version=db.engine_version,
            multi_az=db.multi_az,
            deletion_protection=db.deletion_protection,
            backup_retention_days=db.backup_retention_days,
            keep_final_snapshot=env.protected or db.deletion_protection,
            aws=aws,
        )

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version.split('.')[0]}"


class MlflowDatabase(Construct):
    """Private (no public address, subnets without internet routes in), encrypted with its own key.

    The master password is generated and rotated by RDS in Secrets Manager; it never appears in
    Terraform state. Pods read it through External Secrets with a role scoped to that one secret.
    Its security group admits nothing by itself: the platform stack opens PostgreSQL to the cluster.
    """

    def __init__(self, scope: Construct, construct_id: str, props: MlflowDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(alias=f"{props.identifier}-rds", description=f"RDS storage of {props.identifier}",
                               account_root_arn=props.aws.account_root),
        )
        subnets, security_group, parameters = self._placement(props)
        monitoring_role, monitoring_policy = self._monitoring(props)
        self.instance = DbInstance(
            self, "db",
            identifier=props.identifier,
            engine="postgres",
            engine_version=props.engine_version,
            instance_class=props.instance_class,
            allocated_storage=props.allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.key_arn,
            db_name=DATABASE_NAME,
            username=DATABASE_USER,
            manage_master_user_password=True,
            port=DATABASE_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=props.multi_az,
            deletion_protection=props.deletion_protection,
            backup_retention_period=props.backup_retention_days,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            monitoring_interval=60,
            monitoring_role_arn=monitoring_role.arn,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.key_arn,
            performance_insights_retention_period=7,  # the free tier
            skip_final_snapshot=not props.keep_final_snapshot,
            final_snapshot_identifier=f"{props.identifier}-final" if props.keep_final_snapshot else None,
            depends_on=[monitoring_policy],
        )
        self.endpoint: str = self.instance.address
        self.port: float = self.instance.port
        self.db_name: str = self.instance.db_name
        self.master_secret_arn: str = self.instance.master_user_secret.get(0).secret_arn
        self.security_group_id: str = security_group.id

    def _placement(self, props: MlflowDatabaseProps) -> tuple[DbSubnetGroup, SecurityGroup, DbParameterGroup]:
        """Private subnets, a security group opened by the cluster stack only, TLS-only parameters."""
        subnets = DbSubnetGroup(self, "subnets", name=props.identifier, subnet_ids=list(props.subnet_ids))
        security_group = SecurityGroup(
            self, "sg", name=f"{props.identifier}-db", vpc_id=props.vpc_id,
            description="PostgreSQL from the EKS cluster security group only",
            tags={"Name": f"{props.identifier}-db"},
        )
        parameters = DbParameterGroup(
            self, "parameters", name=props.identifier, family=props.parameter_family,
            description="MLflow PostgreSQL: TLS only, slow statements logged",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),
                DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
            ],
        )
        return subnets, security_group, parameters

    def _monitoring(self, props: MlflowDatabaseProps) -> tuple[IamRole, IamRolePolicyAttachment]:
        # Enhanced monitoring: OS-level metrics (memory, IO wait) that CloudWatch's host metrics lack.
        monitoring_role = IamRole(self, "monitoring-role", name=props.monitoring_role_name,
                                  assume_role_policy=service_trust("monitoring.rds"))
        monitoring_policy = IamRolePolicyAttachment(
            self, "monitoring-policy", role=monitoring_role.name,
            policy_arn=props.aws.managed_policy("service-role/AmazonRDSEnhancedMonitoringRole"),
        )
        return monitoring_role, monitoring_policy
