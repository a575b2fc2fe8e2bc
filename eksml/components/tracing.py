"""The OpenTelemetry collector: OTLP in from the platform's workloads, traces out to AWS X-Ray; and
the operator, whose auto-instrumentation traces a workload whose chart cannot set its OTel env
(ChatQnA's gateway)."""

from eksml.components.cert_manager import CERT_MANAGER
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Gate, Identity, Network, TracesWrite

_OTEL_REPO = "https://open-telemetry.github.io/opentelemetry-helm-charts"

OTEL_COLLECTOR = ComponentSpec(
    name="opentelemetry-collector",
    namespace="tracing",
    chart=Chart("opentelemetry-collector", repo=_OTEL_REPO),
    # Pinned here so that files written before tracing existed stay valid.
    addon=AddonSwitch("opentelemetry_collector", version="0.170.0"),
    identity=Identity("otel-collector", service_account="opentelemetry-collector", grants=(TracesWrite(),)),
)
OTEL_OPERATOR = ComponentSpec(
    name="opentelemetry-operator",
    namespace="opentelemetry-operator",  # apart from the collector, which every sender may reach
    chart=Chart("opentelemetry-operator", repo=_OTEL_REPO),
    addon=AddonSwitch("opentelemetry_operator", version="0.122.0"),
    # Only ChatQnA's gateway needs it today, and only where there is a collector to send to.
    gates=(Gate("addons.opentelemetry_collector.enabled"), Gate("genai.chatqna.enabled"),
           Gate("genai.chatqna.deploy", "helm")),
    depends_on=(CERT_MANAGER,),  # its webhook's certificate
    provides_api_groups=("opentelemetry.io",),
    network=Network(api_server_ports=("webhook-server",)),
)
# Where workloads send OTLP (the chart's Service for this release name, in its namespace).
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
_COLLECTOR_HOST = f"{OTEL_COLLECTOR.name}.{OTEL_COLLECTOR.namespace}"
OTLP_ENDPOINT = f"http://{_COLLECTOR_HOST}:{OTLP_GRPC_PORT}"
OTLP_HTTP_ENDPOINT = f"http://{_COLLECTOR_HOST}:{OTLP_HTTP_PORT}"  # the SDKs' http/protobuf default
# For senders that speak OTLP over HTTP and take the traces URL itself (OPEA's microservices).
OTLP_HTTP_TRACES_URL = f"{OTLP_HTTP_ENDPOINT}/v1/traces"
