"""OPEA's GenAI Microservices Connector (the RFC's deployment path), for `genai.chatqna.deploy: gmc`:
its controller, and the ChatQnA pipeline as a GMConnector it turns into services and a router.

The gmc chart is published in no Helm repository (GenAIInfra installs it from a checkout), so it
comes from the chart mirror only; without one the render says so and stops.
"""

from eksml.components.serving import MODEL_SERVER_PORT, MODEL_SERVING
from eksml.components.spec import INTERNET, UNPUBLISHED, AddonSwitch, Chart, ComponentSpec, Egress, Gate, Network

_GMC_MODE = (Gate("genai.chatqna.enabled"), Gate("genai.chatqna.deploy", "gmc"))

GMC_CONTROLLER = ComponentSpec(
    name="gmc-controller",
    namespace="gmc-system",
    chart=Chart("gmc", repo=UNPUBLISHED),
    addon=AddonSwitch("opea_gmc", version="1.0.0"),  # GenAIInfra v1.4's chart (images 1.4)
    gates=_GMC_MODE,
    provides_api_groups=("gmc.opea.io",),
)

CHATQNA_GMC = ComponentSpec(
    name="chatqna-gmc",
    namespace="chatqna-gmc",
    gates=_GMC_MODE,
    depends_on=(GMC_CONTROLLER, MODEL_SERVING),
    network=Network(egress=(
        Egress(INTERNET, 443, "TEI downloads the embedding and reranking models from the Hugging Face hub"),
        Egress(MODEL_SERVING, MODEL_SERVER_PORT, "the LLM step calls the served model (llm_from_serving)"),
    )),
    timeout="30m",
)
