"""Velero: one schedule backs every namespace's objects up to the backup bucket and snapshots the EBS
volumes (velero-plugin-for-aws), kept for `backups.retention_days`; S3 access through IRSA, no key."""

from __future__ import annotations

from typing import Any

from eksml.components.velero import VELERO
from eksml.contract.names import BACKUPS_BUCKET
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext

# velero-plugin-for-aws v1.14.x is the line for Velero 1.18.x (the plugin's compatibility table).
AWS_PLUGIN_IMAGE = "velero/velero-plugin-for-aws:v1.14.4"
LOCATION = "default"
SCHEDULE = "platform"
_USER = 65532  # the images are distroless; any non-root uid works with IRSA's fsGroup-readable token


def plugin_container() -> dict[str, Any]:
    return {
        "name": "velero-plugin-for-aws", "image": AWS_PLUGIN_IMAGE, "imagePullPolicy": "Always",
        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
        "securityContext": RESTRICTED_CONTAINER,
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
    }


class Velero(DescribedComponent):
    spec = VELERO

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        backups = ctx.env.backups
        assert backups is not None  # the gate
        sa = ctx.irsa(VELERO)
        region = {"region": ctx.env.region}
        return {
            "initContainers": [plugin_container()],
            "credentials": {"useSecret": False},
            "serviceAccount": {"server": {"create": True, "name": sa.name, "annotations": sa.annotations}},
            "podSecurityContext": {**RESTRICTED_POD, "runAsUser": _USER, "runAsGroup": _USER, "fsGroup": _USER},
            "containerSecurityContext": RESTRICTED_CONTAINER,
            "configuration": {
                "backupStorageLocation": [{"name": LOCATION, "provider": "aws", "default": True,
                                           "bucket": ctx.bucket(BACKUPS_BUCKET),
                                           "config": {**region, "serverSideEncryption": "aws:kms"}}],
                "volumeSnapshotLocation": [{"name": LOCATION, "provider": "aws", "config": region}],
            },
            "schedules": {SCHEDULE: {
                "schedule": backups.schedule,
                "useOwnerReferencesInBackup": False,
                "template": {"ttl": f"{backups.retention_days * 24}h0m0s", "includedNamespaces": ["*"],
                             "snapshotVolumes": True, "storageLocation": LOCATION,
                             "volumeSnapshotLocations": [LOCATION]},
            }},
            "metrics": {"serviceMonitor": {"enabled": ctx.monitoring_enabled}},
        }
