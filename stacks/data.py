"""Data stack: everything that holds state worth keeping (S3, EFS, RDS), apart from the cluster.

It reads only the network: the database (the slowest thing to create) does not wait for the
cluster, and who may reach the stores is granted in the platform stack.
"""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from eksml.config.models_operations import aws_backup_cron
from eksml.contract.names import FILESYSTEM_BACKUP_ROLE, role_name
from modules.filesystem_backup import FilesystemBackup, FilesystemBackupProps
from modules.buckets import Buckets, BucketsProps
from modules.mlflow_database import MlflowDatabase, MlflowDatabaseProps
from modules.shared_filesystem import SharedFilesystem, SharedFilesystemProps
from eksml.contract.names import Output, StackName
from stacks.base import EnvironmentStack, StackSettings
from stacks.network import NetworkStack


class DataStack(EnvironmentStack):
    def __init__(
        self, scope: Construct, settings: StackSettings, env: Environment, network: NetworkStack
    ) -> None:
        super().__init__(scope, StackName.DATA, settings)
        vpc_id = network.network.vpc_id
        subnets = network.network.private_subnet_ids
        self.buckets = Buckets(self, "buckets", BucketsProps.from_environment(env, aws=self.aws))
        self.filesystem = None
        if env.storage.efs:
            self.filesystem = SharedFilesystem(
                self, "efs",
                SharedFilesystemProps(name=env.cluster.name, vpc_id=vpc_id, subnet_ids=tuple(subnets), aws=self.aws),
            )
        if self.filesystem is not None and env.backups is not None:
            FilesystemBackup(self, "efs-backup", FilesystemBackupProps(
                name=env.cluster.name, file_system_arn=self.filesystem.file_system_arn,
                schedule=aws_backup_cron(env.backups.schedule), retention_days=env.backups.retention_days,
                role_name=role_name(env.cluster.name, FILESYSTEM_BACKUP_ROLE), aws=self.aws,
            ))
        self.database = MlflowDatabase(
            self, "mlflow-db",
            MlflowDatabaseProps.from_environment(env, vpc_id=vpc_id, subnet_ids=subnets, aws=self.aws),
        )
        self.output(Output.BUCKET_NAMES, self.buckets.bucket_names, "S3 bucket name per environment item")
        self.output(Output.EFS_FILE_SYSTEM_ID, self.filesystem.file_system_id if self.filesystem else "",
                    "EFS file system for ReadWriteMany volumes (empty when storage.efs is false)")
        self.output(Output.DB_ENDPOINT, self.database.endpoint, "MLflow PostgreSQL host name")
        self.output(Output.DB_PORT, self.database.port, "MLflow PostgreSQL port")
        self.output(Output.DB_NAME, self.database.db_name, "MLflow database name")
        self.output(Output.DB_MASTER_SECRET_ARN, self.database.master_secret_arn,
                    "Secrets Manager secret RDS keeps the master credentials in")
