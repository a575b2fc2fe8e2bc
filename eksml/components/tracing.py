"""The OpenTelemetry collector: OTLP in from the platform's workloads, traces out to AWS X-Ray."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Identity, TracesWrite

OTEL_COLLECTOR = ComponentSpec(
    name="opentelemetry-collector",
    namespace="tracing",
    chart=Chart("opentelemetry-collector", repo="https://open-telemetry.github.io/opentelemetry-helm-charts"),
    # Pinned here so that files written before tracing existed stay valid.
    addon=AddonSwitch("opentelemetry_collector", version="0.170.0"),
    identity=Identity("otel-collector", service_account="opentelemetry-collector", grants=(TracesWrite(),)),
)
# Where workloads send OTLP (the chart's Service for this release name, in its namespace).
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
_COLLECTOR_HOST = f"{OTEL_COLLECTOR.name}.{OTEL_COLLECTOR.namespace}"
OTLP_ENDPOINT = f"http://{_COLLECTOR_HOST}:{OTLP_GRPC_PORT}"
# For senders that speak OTLP over HTTP and take the traces URL itself (OPEA's microservices).
OTLP_HTTP_TRACES_URL = f"http://{_COLLECTOR_HOST}:{OTLP_HTTP_PORT}/v1/traces"
