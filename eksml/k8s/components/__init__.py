"""The release catalog: every platform component, in a sensible default order (ties in the
dependency order keep this order)."""

from __future__ import annotations

from eksml.k8s.components.access import SharedAlbAccess
from eksml.k8s.components.argo_workflows import ArgoWorkflows
from eksml.k8s.components.argocd import ArgoCd
from eksml.k8s.components.base import Component, HelmComponent
from eksml.k8s.components.baseline import ClusterBaseline
from eksml.k8s.components.cert_manager import CertManager
from eksml.k8s.components.chatqna import ChatQnA
from eksml.k8s.components.dashboards import GrafanaDashboards
from eksml.k8s.components.efs_csi import EfsCsiDriver
from eksml.k8s.components.external_secrets import ExternalSecrets
from eksml.k8s.components.gpu_operator import GpuOperator
from eksml.k8s.components.karpenter import Karpenter
from eksml.k8s.components.keda import Keda
from eksml.k8s.components.kserve import Kserve, KserveCrd, KserveRuntimes
from eksml.k8s.components.load_balancer_controller import AwsLoadBalancerController
from eksml.k8s.components.mlflow import Mlflow
from eksml.k8s.components.monitoring import KubePrometheusStack
from eksml.k8s.components.serving import ModelServing
from eksml.k8s.components.storage import StorageClasses


def catalog() -> tuple[Component, ...]:
    return (
        ClusterBaseline(),
        StorageClasses(),
        EfsCsiDriver(),
        ArgoCd(),
        CertManager(),
        AwsLoadBalancerController(),
        ExternalSecrets(),
        KubePrometheusStack(),
        Keda(),
        Karpenter(),
        GpuOperator(),
        KserveCrd(),
        Kserve(),
        KserveRuntimes(),
        Mlflow(),
        ArgoWorkflows(),
        ChatQnA(),
        ModelServing(),
        GrafanaDashboards(),
        SharedAlbAccess(),
    )


__all__ = ["Component", "HelmComponent", "catalog"]
