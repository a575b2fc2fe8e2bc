"""OPEA ChatQnA: embedding >> retrieval >> reranking >> llm, when `genai.chatqna` is enabled."""

from eksml.components.gpu_operator import GPU_OPERATOR
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.serving import MODEL_SERVER_PORT, MODEL_SERVING
from eksml.components.tracing import OTEL_COLLECTOR, OTEL_OPERATOR, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from eksml.components.spec import INTERNET, AddonSwitch, Chart, ComponentSpec, Egress, Gate, Network, Ui

_RELEASE = "opea-chatqna"
OPEA_CHATQNA = ComponentSpec(
    name=_RELEASE,
    namespace="chatqna",
    chart=Chart("oci://ghcr.io/opea-project/charts/chatqna"),
    addon=AddonSwitch("opea_chatqna"),
    gates=(Gate("genai.chatqna.enabled"), Gate("genai.chatqna.deploy", "helm")),
    depends_on=(GPU_OPERATOR, KUBE_PROMETHEUS_STACK, OTEL_OPERATOR),  # the operator instruments its gateway
    uis=(Ui("chatqna-ui", service=f"{_RELEASE}-nginx", port=80, health_path="/", local_port=5173, target_port="nginx"),),
    network=Network(egress=(
        Egress(INTERNET, 443, "TEI and vLLM download their models from the Hugging Face hub at start"),
        Egress(MODEL_SERVING, MODEL_SERVER_PORT, "the LLM step may call a served model (llm_from_serving)"),
        Egress(OTEL_COLLECTOR, OTLP_HTTP_PORT, "OPEA's microservices and the instrumented gateway send spans (OTLP/HTTP)"),
        Egress(OTEL_COLLECTOR, OTLP_GRPC_PORT, "TEI sends spans (OTLP/gRPC)"),
    )),
    timeout="30m",  # a GPU node may scale up from zero and the model is downloaded at start
)
