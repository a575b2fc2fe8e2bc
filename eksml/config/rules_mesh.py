"""Whole-file rules for the mesh: what Linkerd's certificates and trust bundle need is installed."""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, needs


def _mesh_on(env: Environment) -> bool:
    try:
        return env.mesh_on
    except ValueError:  # no tier: tier_is_known reports it
        return False


def _why_on(env: Environment) -> str:
    return "mesh.enabled is true" if env.mesh.enabled else f"the mesh is on by default at {env.resolved_tier.value}"


@needs("mesh", "addons", "name", "tier")
def mesh_has_what_it_needs(env: Environment, _: Catalog) -> Iterator[Finding]:
    if not _mesh_on(env):
        return
    off = "or set mesh: {enabled: false}"
    if not env.addons.linkerd.enabled:
        yield "addons.linkerd.enabled", (f"{_why_on(env)}, but addons.linkerd.enabled is false; the mesh is switched "
                                         "with mesh.enabled: remove addons.linkerd.enabled, " + off)
    if not env.addons.cert_manager.enabled:
        yield "addons.cert_manager.enabled", (f"{_why_on(env)}: its trust anchor, identity issuer and webhook "
                                              f"certificates come from cert-manager; enable addons.cert_manager {off}")
    if not env.addons.external_secrets.enabled:
        yield "addons.external_secrets.enabled", (f"{_why_on(env)}: external-secrets keeps its trust bundle in step "
                                                  f"with the identity issuer; enable addons.external_secrets {off}")


RULES = (mesh_has_what_it_needs,)
