"""cert-manager: the webhook certificates KServe needs."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Network

CERT_MANAGER = ComponentSpec(
    name="cert-manager",
    namespace="cert-manager",
    chart=Chart("cert-manager", repo="https://charts.jetstack.io"),
    addon=AddonSwitch("cert_manager"),
    provides_api_groups=("cert-manager.io", "acme.cert-manager.io"),
    network=Network(api_server_ports=("https",)),  # the webhook
)
