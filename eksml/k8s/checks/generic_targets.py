"""An ExternalSecret that makes something other than a Secret (the mesh's trust bundle ConfigMap)
works only when the external-secrets controller runs with generic targets allowed. Charts before
the `genericTargets` value (the 0.x line) never pass the flag, and the ExternalSecret would wait
forever; the render says so instead.
"""

from __future__ import annotations

from typing import Sequence

from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.errors import Issue
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.checks.rendered_pods import pod_spec_of

GENERIC_TARGETS_FLAG = "--unsafe-allow-generic-targets=true"


def _controller_allows(objects: Sequence[Placed]) -> bool:
    for placed in objects:
        if placed.release != EXTERNAL_SECRETS.name or placed.obj.kind != "Deployment":
            continue
        spec = pod_spec_of(placed.obj.body, placed.obj.kind) or {}
        if any(GENERIC_TARGETS_FLAG in (c.get("args") or []) for c in spec.get("containers") or []):
            return True
    return False


def generic_target_issues(objects: Sequence[Placed]) -> list[Issue]:
    targets = [p for p in objects if p.obj.kind == "ExternalSecret"
               and (((p.obj.body.get("spec") or {}).get("target") or {}).get("manifest"))]
    if not targets or _controller_allows(objects):
        return []
    return [placed.issue("spec.target.manifest", (
        f"makes a {placed.obj.body['spec']['target']['manifest'].get('kind')}, which the external-secrets controller "
        f"does only with {GENERIC_TARGETS_FLAG}; the pinned chart does not pass it (its genericTargets value came "
        "after the 0.x charts): pin addons.external_secrets.version to a chart that has it, such as 2.9.0"))
        for placed in targets]
