"""Linkerd's control plane, with no key material in any file.

cert-manager makes the chain in the cluster: a self-signed trust anchor, and from it the identity
issuer the identity controller signs every proxy's certificate with (rotated every 48 hours). The
proxies trust the anchor through the ConfigMap `linkerd-identity-trust-roots`, which external-secrets
copies from the issuer's Secret (`ca.crt`) and keeps current. The three admission webhooks get
their certificates from cert-manager too, which injects the CA into each webhook configuration.
The proxies start through the CNI plugin (mesh_cni.py), so no pod needs NET_ADMIN.
"""

from __future__ import annotations

from typing import Any

from eksml.components.mesh import LINKERD_CONTROL_PLANE, LINKERD_CRDS, PROXY_UID
from eksml.k8s.model.components.availability import controller_replicas, highly_available
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import granted_role, metadata
from eksml.k8s.model.records import Manifest

NAMESPACE = LINKERD_CONTROL_PLANE.namespace
CERT_API = "cert-manager.io/v1"
ESO_API = "external-secrets.io/v1"
SELF_SIGNED, TRUST_ANCHOR, IDENTITY_ISSUER = "linkerd-self-signed", "linkerd-trust-anchor", "linkerd-identity-issuer"
TRUST_ROOTS = "linkerd-identity-trust-roots"  # the ConfigMap the chart's pods and the injector read
TRUST_READER = "linkerd-trust-bundle-reader"  # external-secrets reads the issuer's Secret as this account
# webhook -> the Secret the chart mounts its serving certificate from (values key, Secret name)
WEBHOOKS = {
    "linkerd-proxy-injector": ("proxyInjector", "linkerd-proxy-injector-k8s-tls"),
    "linkerd-sp-validator": ("profileValidator", "linkerd-sp-validator-k8s-tls"),
    "linkerd-policy-validator": ("policyValidator", "linkerd-policy-validator-k8s-tls"),
}
_ECDSA = {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}


def trust_domain_name(name: str) -> str:
    return f"{name}.{NAMESPACE}.cluster.local"


def _issuer(name: str, spec: dict[str, Any]) -> Manifest:
    return {"apiVersion": CERT_API, "kind": "Issuer", "metadata": metadata(name, NAMESPACE), "spec": spec}


def _certificate(name: str, spec: dict[str, Any]) -> Manifest:
    return {"apiVersion": CERT_API, "kind": "Certificate", "metadata": metadata(name, NAMESPACE),
            "spec": {"secretName": name, "privateKey": dict(_ECDSA), **spec}}


def certificate_chain() -> list[Manifest]:
    """Trust anchor (10 years: replacing it is a planned rollout) and identity issuer (48 hours)."""
    webhook_certs = [
        _certificate(name, {"secretName": secret, "dnsNames": [f"{name}.{NAMESPACE}.svc"], "duration": "8760h",
                            "renewBefore": "720h", "issuerRef": {"name": SELF_SIGNED, "kind": "Issuer"}})
        for name, (_, secret) in WEBHOOKS.items()
    ]
    return [
        _issuer(SELF_SIGNED, {"selfSigned": {}}),
        _certificate(TRUST_ANCHOR, {"isCA": True, "commonName": "root.linkerd.cluster.local", "duration": "87600h",
                                    "renewBefore": "8760h", "issuerRef": {"name": SELF_SIGNED, "kind": "Issuer"}}),
        _issuer(TRUST_ANCHOR, {"ca": {"secretName": TRUST_ANCHOR}}),
        _certificate(IDENTITY_ISSUER, {
            "isCA": True, "commonName": trust_domain_name("identity"), "dnsNames": [trust_domain_name("identity")],
            "duration": "48h", "renewBefore": "25h", "issuerRef": {"name": TRUST_ANCHOR, "kind": "Issuer"},
            "usages": ["cert sign", "crl sign", "server auth", "client auth"],
        }),
        *webhook_certs,
    ]


def trust_bundle() -> list[Manifest]:
    """The ConfigMap of the anchor's certificate (public), copied by external-secrets from the issuer's
    Secret through the Kubernetes API, with a service account that may read only that Secret."""
    reader = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(TRUST_READER, NAMESPACE),
              "automountServiceAccountToken": False}
    read_issuer = [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [IDENTITY_ISSUER], "verbs": ["get"]}]
    store = {"apiVersion": ESO_API, "kind": "SecretStore", "metadata": metadata(TRUST_READER, NAMESPACE), "spec": {
        "provider": {"kubernetes": {
            "remoteNamespace": NAMESPACE,
            "server": {"url": "https://kubernetes.default.svc",
                       "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"}},
            "auth": {"serviceAccount": {"name": TRUST_READER}},
        }},
    }}
    copy = {"apiVersion": ESO_API, "kind": "ExternalSecret", "metadata": metadata(TRUST_ROOTS, NAMESPACE), "spec": {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "SecretStore", "name": TRUST_READER},
        "target": {"name": TRUST_ROOTS, "creationPolicy": "Owner", "manifest": {"apiVersion": "v1", "kind": "ConfigMap"}},
        "data": [{"secretKey": "ca-bundle.crt", "remoteRef": {"key": IDENTITY_ISSUER, "property": "ca.crt"}}],
    }}
    return [reader, *granted_role(TRUST_READER, NAMESPACE, read_issuer, TRUST_READER, NAMESPACE), store, copy]


class LinkerdCrds(DescribedComponent):
    spec = LINKERD_CRDS


class LinkerdControlPlane(DescribedComponent):
    spec = LINKERD_CONTROL_PLANE

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        webhooks = {key: {"externalSecret": True, "injectCaFrom": f"{NAMESPACE}/{name}"}
                    for name, (key, _) in WEBHOOKS.items()}
        ha = highly_available(ctx)  # two of each controller on different nodes, with a disruption budget
        return {
            "cniEnabled": True,
            "identity": {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}},
            **webhooks,
            "controllerReplicas": controller_replicas(ctx), "enablePodAntiAffinity": ha, "enablePodDisruptionBudget": ha,
            "proxy": {"uid": PROXY_UID},  # the uid the CNI plugin's redirection exempts
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        return [*certificate_chain(), *trust_bundle()]
