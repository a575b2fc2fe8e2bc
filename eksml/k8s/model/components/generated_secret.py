"""A Secret whose value is generated once, in the cluster, by an external-secrets Password
generator: a random credential no file (render directory, gitops folder) ever holds."""

from __future__ import annotations

from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

GENERATOR_API = "generators.external-secrets.io/v1alpha1"


def generated_secret(name: str, namespace: str, template: dict[str, str], *, length: int = 32) -> list[Manifest]:
    """The generator and the ExternalSecret filling Secret `name`; `template` maps each key to its
    value, where `{{ .password }}` is the generated one."""
    generator = {
        "apiVersion": GENERATOR_API,
        "kind": "Password",
        "metadata": metadata(name, namespace),
        "spec": {"length": length, "digits": 6, "symbols": 0, "noUpper": False, "allowRepeat": True},
    }
    external_secret = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": metadata(name, namespace),
        "spec": {
            "refreshPolicy": "CreatedOnce",  # generated once; a refresh must not change the value
            "target": {"name": name, "creationPolicy": "Owner", "template": {"data": dict(template)}},
            "dataFrom": [{"sourceRef": {"generatorRef": {"apiVersion": GENERATOR_API, "kind": "Password", "name": name}}}],
        },
    }
    return [generator, external_secret]
