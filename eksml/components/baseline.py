"""The cluster baseline: namespaces, quotas, priority classes and network policies. Every other
component depends on it."""

from eksml.components.spec import ComponentSpec

CLUSTER_BASELINE = ComponentSpec(name="cluster-baseline", timeout="5m")
