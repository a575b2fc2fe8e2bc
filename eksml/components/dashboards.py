"""Grafana dashboards as ConfigMaps: on and off with the monitoring stack whose sidecar reads them."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import ComponentSpec

GRAFANA_DASHBOARDS = ComponentSpec(
    name="grafana-dashboards",
    namespace=KUBE_PROMETHEUS_STACK.namespace,
    addon=KUBE_PROMETHEUS_STACK.addon,
    depends_on=(KUBE_PROMETHEUS_STACK,),
    timeout="5m",
)
