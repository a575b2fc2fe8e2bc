"""kube-prometheus-stack (Prometheus, Alertmanager, Grafana), and eksml's dashboards beside it."""

from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.components.spec import EVERY_POD, INTERNET, VPC, AddonSwitch, Chart, ComponentSpec, Egress, Network, Ui

KUBE_PROMETHEUS_STACK = ComponentSpec(
    name="kube-prometheus-stack",
    namespace="monitoring",
    chart=Chart("kube-prometheus-stack", repo="https://prometheus-community.github.io/helm-charts"),
    addon=AddonSwitch("kube_prometheus_stack"),
    provides_api_groups=("monitoring.coreos.com",),
    # Grafana's admin Secret comes from an ExternalSecret, which needs external-secrets' CRDs.
    depends_on=(EXTERNAL_SECRETS,),
    uis=(Ui("grafana", service="kube-prometheus-stack-grafana", port=80, health_path="/api/health", local_port=3000, target_port="grafana"),),
    network=Network(
        egress=(
            Egress(EVERY_POD, None, "Prometheus scrapes every namespace's metrics ports"),
            Egress(VPC, None, "Prometheus scrapes node-exporter and the kubelets on the nodes' addresses"),
            Egress(INTERNET, 443, "Alertmanager delivers alerts to its receivers"),
        ),
        api_server_ports=("https",),  # the operator's admission webhook
    ),
    timeout="15m",
)
