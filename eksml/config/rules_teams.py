"""Team rules: a team gets a namespace of its own, so its name must not be one the platform uses.

Rendering refuses such a team too (the cluster baseline would merge the team into a release's
namespace); checking it here makes `eksml validate` say so before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, needs
from eksml.config.components import PLATFORM_NAMESPACES


@needs("teams")
def team_names_are_not_platform_namespaces(env: Environment, _: Catalog) -> Iterator[Finding]:
    reserved = ", ".join(sorted(PLATFORM_NAMESPACES))
    for team in env.teams:
        if team in PLATFORM_NAMESPACES:
            yield f"teams.{team}", f"'{team}' is a platform namespace; team names must differ from: {reserved}"
        elif team.startswith("kube-"):
            yield f"teams.{team}", f"'{team}' starts with kube-, which Kubernetes reserves for its own namespaces"


RULES = (team_names_are_not_platform_namespaces,)
