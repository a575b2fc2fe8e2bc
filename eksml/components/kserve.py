"""KServe in three charts pinned together under `addons.kserve`: CRDs, controller, serving runtimes."""

from eksml.components.cert_manager import CERT_MANAGER
from eksml.components.spec import AddonOption, AddonSwitch, Chart, ComponentSpec, Network

_CHARTS = "oci://ghcr.io/kserve/charts"
KSERVE_NAMESPACE = "kserve"
KSERVE_ADDON = AddonSwitch("kserve", options=(
    # KServe v0.20 renamed RawDeployment to Standard and keeps the old name as an alias.
    AddonOption("deployment_mode", allowed=("Standard", "RawDeployment"), default="Standard",
                aliases={"RawDeployment": "Standard"}),
))

KSERVE_CRD = ComponentSpec(
    name="kserve-crd",
    namespace=KSERVE_NAMESPACE,
    chart=Chart(f"{_CHARTS}/kserve-crd"),
    addon=KSERVE_ADDON,
    provides_api_groups=("serving.kserve.io",),
)
KSERVE = ComponentSpec(
    name="kserve",
    namespace=KSERVE_NAMESPACE,
    chart=Chart(f"{_CHARTS}/kserve-resources"),
    addon=KSERVE_ADDON,
    depends_on=(KSERVE_CRD, CERT_MANAGER),  # CRDs, and certificates for its webhooks
    network=Network(api_server_ports=("webhook-server",)),
)
KSERVE_RUNTIMES = ComponentSpec(
    name="kserve-runtime-configs",
    namespace=KSERVE_NAMESPACE,
    chart=Chart(f"{_CHARTS}/kserve-runtime-configs"),
    addon=KSERVE_ADDON,
    depends_on=(KSERVE,),  # ClusterServingRuntimes pass through the controller's webhook
)
