"""MLflow tracking server (community-charts): PostgreSQL on the RDS instance, artifacts in S3.

The database credentials never appear in values or rendered files: an ExternalSecret copies the RDS
master secret from Secrets Manager into the Secret the chart reads (`existingDatabaseSecret`).
S3 access goes through the IRSA role on the chart's service account; the server proxies artifact
traffic so clients need no AWS credentials.
"""

from __future__ import annotations

from typing import Any

from eksml.components.mlflow import ARTIFACT_PREFIX, MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.k8s.components.base import DescribedComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.manifests import metadata
from eksml.k8s.model import Manifest

DB_SECRET = "mlflow-db"
SECRET_STORE = "eksml-aws-secrets-manager"
MLFLOW_PORT = 5000


def secret_store(ctx: RenderContext, consumer_namespace: str) -> Manifest:
    """Secrets Manager through the external-secrets controller's own IRSA role, usable only from MLflow."""
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": metadata(SECRET_STORE),
        "spec": {
            "provider": {"aws": {"service": "SecretsManager", "region": ctx.env.region}},
            "conditions": [{"namespaces": [consumer_namespace]}],
        },
    }


def db_external_secret(ctx: RenderContext, namespace: str) -> Manifest:
    arn = ctx.outputs.db_master_secret_arn
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": metadata(DB_SECRET, namespace),
        "spec": {
            # RDS rotates the managed master password; refresh well inside the rotation period.
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": SECRET_STORE},
            "target": {"name": DB_SECRET, "creationPolicy": "Owner"},
            "data": [
                {"secretKey": "username", "remoteRef": {"key": arn, "property": "username"}},
                {"secretKey": "password", "remoteRef": {"key": arn, "property": "password"}},
            ],
        },
    }


class Mlflow(DescribedComponent):
    spec = MLFLOW

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(MLFLOW)
        out = ctx.outputs
        return {
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "service": {"containerPort": MLFLOW_PORT},
            "backendStore": {
                "databaseMigration": True,
                "databaseConnectionCheck": True,
                "postgres": {"enabled": True, "host": out.db_endpoint, "port": out.db_port, "database": out.db_name},
                "existingDatabaseSecret": {"name": DB_SECRET, "usernameKey": "username", "passwordKey": "password"},
            },
            "artifactRoot": {
                "proxiedArtifactStorage": True,
                "s3": {"enabled": True, "bucket": ctx.bucket("artifacts"), "path": ARTIFACT_PREFIX},
            },
            "extraEnvVars": {"AWS_DEFAULT_REGION": ctx.env.region},
            # Also starts the server with --expose-prometheus; the ServiceMonitor sits beside MLflow.
            "serviceMonitor": {"enabled": ctx.monitoring_enabled, "namespace": self.namespace,
                               "labels": {"release": KUBE_PROMETHEUS_STACK.name}},
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # Applied before the release; the installer waits for the Secret before MLflow starts.
        return [secret_store(ctx, self.namespace), db_external_secret(ctx, self.namespace)]
