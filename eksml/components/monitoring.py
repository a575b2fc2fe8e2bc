"""kube-prometheus-stack (Prometheus, Alertmanager, Grafana), and eksml's dashboards beside it."""

from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Ui

KUBE_PROMETHEUS_STACK = ComponentSpec(
    name="kube-prometheus-stack",
    namespace="monitoring",
    chart=Chart("kube-prometheus-stack", repo="https://prometheus-community.github.io/helm-charts"),
    addon=AddonSwitch("kube_prometheus_stack"),
    provides_api_groups=("monitoring.coreos.com",),
    # Grafana's admin Secret comes from an ExternalSecret, which needs external-secrets' CRDs.
    depends_on=(EXTERNAL_SECRETS,),
    uis=(Ui("grafana", service="kube-prometheus-stack-grafana", port=80, health_path="/api/health", local_port=3000),),
    timeout="15m",
)
