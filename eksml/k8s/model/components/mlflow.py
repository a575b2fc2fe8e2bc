"""MLflow tracking server (community-charts): PostgreSQL on the RDS instance, artifacts in S3.

The database credentials never appear in values or rendered files: an ExternalSecret copies the RDS
master secret from Secrets Manager into the Secret the chart reads (`existingDatabaseSecret`).
S3 access goes through the IRSA role on the chart's service account; the server proxies artifact
traffic so clients need no AWS credentials. The Flask session key is generated once in the cluster
(external-secrets), so neither it nor the database password is in any file.
"""

from __future__ import annotations

from typing import Any

from eksml.components.mlflow import ARTIFACT_PREFIX, MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.k8s.model.components.availability import (
    HA_REPLICAS, disruption_budget, highly_available, zone_anti_affinity,
)
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.generated_secret import generated_secret
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

DB_SECRET = "mlflow-db"
# The Flask session key: the chart reads this Secret and makes its own only when the cluster lacks it.
FLASK_SECRET, FLASK_SECRET_KEY = f"{MLFLOW.name}-flask-server-secret-key", "MLFLOW_FLASK_SERVER_SECRET_KEY"
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
            # The server is stateless (PostgreSQL and S3 hold everything): two replicas from staging up.
            **({"replicaCount": HA_REPLICAS, "affinity": zone_anti_affinity(self._pod_labels())}
               if highly_available(ctx) else {}),
            # Also starts the server with --expose-prometheus; the ServiceMonitor sits beside MLflow.
            "serviceMonitor": {"enabled": ctx.monitoring_enabled, "namespace": self.namespace,
                               "labels": {"release": KUBE_PROMETHEUS_STACK.name}},
        }

    def _pod_labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/instance": self.name}

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        budget = disruption_budget(self.name, self.namespace, self._pod_labels())
        return [*super().objects(ctx), budget] if highly_available(ctx) else super().objects(ctx)

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # Applied before the release; the installer waits for the Secret before MLflow starts.
        return [secret_store(ctx, self.namespace), db_external_secret(ctx, self.namespace),
                *generated_secret(FLASK_SECRET, self.namespace, {FLASK_SECRET_KEY: "{{ .password }}"}, length=64)]
