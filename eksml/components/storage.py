"""The StorageClasses eksml owns (gp3 default, io2, efs); no chart. Before every release, so a
chart's PVCs find the default class at once."""

from eksml.components.spec import ComponentSpec

STORAGE_CLASSES = ComponentSpec(name="storage-classes", timeout="5m")
