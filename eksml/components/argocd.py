"""Argo CD, installed with `delivery: gitops` only."""

from eksml.components.spec import INTERNET, AddonSwitch, Chart, ComponentSpec, Egress, Gate, Network, Ui

ARGOCD = ComponentSpec(
    name="argocd",  # the chart then names its Services argocd-server, argocd-repo-server, ...
    namespace="argocd",
    chart=Chart("argo-cd", repo="https://argoproj.github.io/argo-helm"),
    # Pinned here so that files written before gitops existed stay valid.
    addon=AddonSwitch("argo_cd", version="10.1.1"),
    gates=(Gate("delivery", "gitops"),),
    uis=(Ui("argocd", service="argocd-server", port=80, health_path="/healthz", local_port=8080, target_port="server"),),
    network=Network(egress=(Egress(INTERNET, 443, "the repo server reads the Git repository and the chart repositories"),)),
)
