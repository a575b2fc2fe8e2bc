"""StorageClasses eksml owns: `gp3` (the cluster default) and `io2` (high-IOPS checkpoints) on the
EBS CSI add-on, encrypted with the environment's EBS key, and `efs` (ReadWriteMany datasets and
models) on the data stack's file system, one access point per volume.

Volumes bind when their pod is scheduled (WaitForFirstConsumer), so an EBS volume is created in
the zone of the node that uses it. Model and dataset PVCs in the serving and training namespaces
name one of these classes; a PVC that names none gets gp3.

A VolumeSnapshot of an EBS volume (a checkpoint to keep, a volume to clone) gets the default
VolumeSnapshotClass `ebs-snapshots`; its API comes from the cluster stack's snapshot-controller
add-on. A protected environment keeps the EBS snapshot when its VolumeSnapshot is deleted.
"""

from __future__ import annotations

from eksml.components.storage import STORAGE_CLASSES
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
EBS_SNAPSHOTS = "ebs-snapshots"
EBS_PROVISIONER = "ebs.csi.aws.com"
EFS_PROVISIONER = "efs.csi.aws.com"
GP3, IO2, EFS = "gp3", "io2", "efs"
# io2: IOPS per GiB (EBS allows up to 1000 on io2 Block Express); 100 gives a 500 GiB checkpoint volume 50,000.
IO2_IOPS_PER_GB = "100"
# EFS access points: each volume gets its own directory and a POSIX identity from this range.
EFS_GID_RANGE = ("50000", "60000")


def storage_class(name: str, provisioner: str, parameters: dict[str, str], *, default: bool = False,
                  expandable: bool = True) -> Manifest:
    annotations = {DEFAULT_CLASS_ANNOTATION: "true" if default else "false"}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata(name, annotations=annotations),
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": expandable,
        "volumeBindingMode": "WaitForFirstConsumer" if provisioner == EBS_PROVISIONER else "Immediate",
    }


def storage_classes(ctx: RenderContext) -> list[Manifest]:
    key = ctx.ebs_key_arn
    encrypted = {"encrypted": "true", "kmsKeyId": key, "csi.storage.k8s.io/fstype": "ext4"}
    classes = [
        storage_class(GP3, EBS_PROVISIONER, {"type": "gp3", **encrypted}, default=True),
        storage_class(IO2, EBS_PROVISIONER, {"type": "io2", "iopsPerGB": IO2_IOPS_PER_GB,
                                             "allowAutoIOPSPerGBIncrease": "true", **encrypted}),
    ]
    if ctx.outputs.efs_file_system_id:
        classes.append(storage_class(EFS, EFS_PROVISIONER, {
            "provisioningMode": "efs-ap",
            "fileSystemId": ctx.outputs.efs_file_system_id,
            "directoryPerms": "700",
            "gidRangeStart": EFS_GID_RANGE[0],
            "gidRangeEnd": EFS_GID_RANGE[1],
            "basePath": "/volumes",
        }, expandable=False))
    return classes


def snapshot_class(ctx: RenderContext) -> Manifest:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": metadata(EBS_SNAPSHOTS, annotations={DEFAULT_SNAPSHOT_CLASS_ANNOTATION: "true"}),
        "driver": EBS_PROVISIONER,
        "deletionPolicy": "Retain" if ctx.env.protected else "Delete",
    }


class StorageClasses(DescribedComponent):
    spec = STORAGE_CLASSES

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # Before every release, so a chart's PVCs find the default class at once.
        return [*storage_classes(ctx), snapshot_class(ctx)]
