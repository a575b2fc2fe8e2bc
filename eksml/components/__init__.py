"""Every platform component, described once (eksml/components/spec.py says what a description holds).

COMPONENTS is the one list of components, in the default install order (ties in the dependency
order keep this order). Everything else that needs a list — add-on keys, namespaces, IRSA roles,
UIs — asks the functions below.
"""

from __future__ import annotations

from eksml.components.access import SHARED_ALB_ACCESS
from eksml.components.argo_workflows import ARGO_WORKFLOWS
from eksml.components.argocd import ARGOCD
from eksml.components.baseline import CLUSTER_BASELINE
from eksml.components.cert_manager import CERT_MANAGER
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.dashboards import GRAFANA_DASHBOARDS
from eksml.components.efa import AWS_EFA_DEVICE_PLUGIN
from eksml.components.efs_csi import AWS_EFS_CSI_DRIVER
from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.components.fluent_bit import AWS_FOR_FLUENT_BIT
from eksml.components.gmc import CHATQNA_GMC, GMC_CONTROLLER
from eksml.components.gpu_operator import GPU_OPERATOR
from eksml.components.karpenter import KARPENTER
from eksml.components.keda import KEDA
from eksml.components.kserve import KSERVE, KSERVE_CRD, KSERVE_RUNTIMES
from eksml.components.load_balancer_controller import AWS_LOAD_BALANCER_CONTROLLER
from eksml.components.mesh import LINKERD_CNI, LINKERD_CONTROL_PLANE, LINKERD_CRDS
from eksml.components.metrics_server import METRICS_SERVER
from eksml.components.mlflow import MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.pipeline import ML_PIPELINE
from eksml.components.serving import MODEL_SERVING
from eksml.components.storage import STORAGE_CLASSES
from eksml.components.tracing import OTEL_COLLECTOR, OTEL_OPERATOR
from eksml.components.training import KUBEFLOW_TRAINER
from eksml.components.velero import VELERO
from eksml.components.spec import AddonSwitch, ComponentSpec, Identity, Ui

COMPONENTS: tuple[ComponentSpec, ...] = (
    CLUSTER_BASELINE,
    STORAGE_CLASSES,
    AWS_EFS_CSI_DRIVER,
    ARGOCD,
    CERT_MANAGER,
    AWS_LOAD_BALANCER_CONTROLLER,
    METRICS_SERVER,
    EXTERNAL_SECRETS,
    LINKERD_CRDS,
    LINKERD_CNI,
    LINKERD_CONTROL_PLANE,
    KUBE_PROMETHEUS_STACK,
    AWS_FOR_FLUENT_BIT,
    OTEL_COLLECTOR,
    OTEL_OPERATOR,
    KEDA,
    KARPENTER,
    GPU_OPERATOR,
    AWS_EFA_DEVICE_PLUGIN,
    KSERVE_CRD,
    KSERVE,
    KSERVE_RUNTIMES,
    MLFLOW,
    ARGO_WORKFLOWS,
    KUBEFLOW_TRAINER,
    ML_PIPELINE,
    VELERO,
    OPEA_CHATQNA,
    MODEL_SERVING,
    GMC_CONTROLLER,
    CHATQNA_GMC,
    GRAFANA_DASHBOARDS,
    SHARED_ALB_ACCESS,
)


def component(name: str) -> ComponentSpec:
    for spec in COMPONENTS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def described(names) -> tuple[ComponentSpec, ...]:
    """The descriptions of these component names, in order; a name without one (test platforms) is skipped."""
    wanted = set(names)
    return tuple(spec for spec in COMPONENTS if spec.name in wanted)


def addon_switches() -> dict[str, AddonSwitch]:
    """`addons.<key>` of the environment file, once per key (several components may share one)."""
    return {spec.addon.key: spec.addon for spec in COMPONENTS if spec.addon is not None}


def components_of_addon(key: str) -> tuple[ComponentSpec, ...]:
    return tuple(spec for spec in COMPONENTS if spec.addon is not None and spec.addon.key == key)


def component_namespaces() -> tuple[str, ...]:
    return tuple(dict.fromkeys(spec.namespace for spec in COMPONENTS if spec.namespace))


def identities() -> tuple[tuple[ComponentSpec, Identity], ...]:
    return tuple((spec, spec.identity) for spec in COMPONENTS if spec.identity is not None)


def identity(key: str) -> tuple[ComponentSpec, Identity]:
    for spec, found in identities():
        if found.key == key:
            return spec, found
    raise KeyError(key)


def uis() -> dict[str, tuple[ComponentSpec, Ui]]:
    return {ui.name: (spec, ui) for spec in COMPONENTS for ui in spec.uis}


__all__ = ["COMPONENTS", "ComponentSpec", "addon_switches", "component", "component_namespaces", "described",
           "components_of_addon", "identities", "identity", "uis"]
