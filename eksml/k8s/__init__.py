"""The Kubernetes layer: Helm releases and the objects eksml owns, rendered without a cluster and
installed in dependency order.

Library entry points for the CLI and the deploy:
- `render_platform(env, outputs, out_dir, with_charts=...)` -> RenderResult (with_charts: real Helm)
- `install_platform(env, outputs, kubeconfig, context, on_event)` -> InstallResult
- `plan_diff(env, outputs, previous_render_dir)` -> PlanDiff
"""

from eksml.k8s.cluster.install import InstallEvent, InstallResult, ReleaseOutcome, RetryPolicy, install_platform
from eksml.k8s.rendering.render import RenderResult, current_outputs, default_render_dir, render_platform
from eksml.k8s.rendering.values_plan import FileChange, PlanDiff, plan_diff

__all__ = [
    "FileChange",
    "InstallEvent",
    "InstallResult",
    "PlanDiff",
    "ReleaseOutcome",
    "RenderResult",
    "RetryPolicy",
    "current_outputs",
    "default_render_dir",
    "install_platform",
    "plan_diff",
    "render_platform",
]
