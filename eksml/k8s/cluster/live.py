"""What Helm says about the platform's releases on a live cluster (read-only): each release's
revision, status and chart version (`eksml status --context`), and what a deploy would change in it
(`eksml plan --context`)."""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from eksml.config import Environment
from eksml.errors import StageError, first_line
from eksml.k8s.cluster.install import normalise_version
from eksml.k8s.model.records import RenderedComponent
from eksml.k8s.model.platform import build_platform
from eksml.contract.outputs import AwsOutputs


@dataclass(frozen=True)
class ReleaseStatus:
    release: str
    namespace: str
    pinned: str
    installed: Optional[str]  # chart version of the current revision; None when not installed
    revision: Optional[int]
    status: str  # Helm's: deployed, failed, pending-upgrade, ...; or "not installed"

    @property
    def healthy(self) -> bool:
        """Deployed at the version the environment pins (what `deploy` leaves behind)."""
        return self.status == "deployed" and self.installed is not None and (
            normalise_version(self.installed) == normalise_version(self.pinned))

    def as_dict(self) -> dict:
        return {**asdict(self), "healthy": self.healthy}


def release_status(
    env: Environment, outputs: AwsOutputs, kubeconfig: Optional[Path], context: Optional[str], *, helm: str = "helm"
) -> list[ReleaseStatus]:
    """Asks Helm about every release of the environment, in install order (read-only)."""
    return _ask_every_release(env, outputs, kubeconfig, context, helm, "status", _status)


@dataclass(frozen=True)
class ReleaseChange:
    release: str
    namespace: str
    action: str  # install | upgrade | redeploy | update values | none
    detail: str  # e.g. "chart 1.11.4 -> 1.11.5", "status failed"
    values_diff: str  # unified diff of the deployed values against the rendered ones ("" if equal)


def release_changes(
    env: Environment, outputs: AwsOutputs, kubeconfig: Optional[Path], context: Optional[str], *, helm: str = "helm"
) -> list[ReleaseChange]:
    """What `deploy` would do to each release, from the revision Helm holds and the values rendered now."""
    return _ask_every_release(env, outputs, kubeconfig, context, helm, "plan", _change)


def _ask_every_release(env, outputs, kubeconfig, context, helm: str, stage: str, ask) -> list:
    """`ask(client, release)` for every release at once (in install order); results in that order."""
    from pyhelm3 import Client

    releases = build_platform(env, outputs).releases
    try:
        client = Client(executable=helm, kubeconfig=kubeconfig, kubecontext=context)
    except (AssertionError, OSError) as exc:
        raise StageError(stage, f"cannot run helm ({helm}): {exc}", hint="install Helm 3 or 4 and put it on PATH") from None

    async def ask_all() -> list:
        return list(await asyncio.gather(*(ask(client, release) for release in releases)))

    return asyncio.run(ask_all())


async def _current(client, release: RenderedComponent, stage: str):
    """The release's current revision, or None when it is not installed."""
    from pyhelm3 import errors

    try:
        return await client.get_current_revision(release.name, namespace=release.namespace)
    except errors.ReleaseNotFoundError:
        return None
    except errors.Error as exc:
        raise StageError(stage, first_line(exc),
                         resource=f"helm release {release.namespace}/{release.name}") from exc


async def _status(client, release: RenderedComponent) -> ReleaseStatus:
    pinned = str(release.version)
    revision = await _current(client, release, "status")
    if revision is None:
        return ReleaseStatus(release.name, release.namespace, pinned, None, None, "not installed")
    installed = (await revision.chart_metadata()).version
    return ReleaseStatus(release.name, release.namespace, pinned, str(installed), revision.revision,
                         revision.status.value)


async def _change(client, release: RenderedComponent) -> ReleaseChange:
    import yaml

    revision = await _current(client, release, "plan")
    if revision is None:
        return ReleaseChange(release.name, release.namespace, "install", f"chart {release.version}", "")
    deployed_values = await revision.values()
    diff = "".join(difflib.unified_diff(
        yaml.safe_dump(deployed_values, sort_keys=True).splitlines(keepends=True),
        yaml.safe_dump(release.values, sort_keys=True).splitlines(keepends=True),
        fromfile=f"deployed/{release.name}", tofile=f"rendered/{release.name}",
    )) if deployed_values != release.values else ""
    installed = str((await revision.chart_metadata()).version)
    if revision.status.value != "deployed":
        action, detail = "redeploy", f"revision {revision.revision} is {revision.status.value}"
    elif normalise_version(installed) != normalise_version(str(release.version)):
        action, detail = "upgrade", f"chart {installed} -> {release.version}"
    elif diff:
        action, detail = "update values", f"revision {revision.revision}"
    else:
        action, detail = "none", f"revision {revision.revision}"
    return ReleaseChange(release.name, release.namespace, action, detail, diff)


def format_changes(changes: list[ReleaseChange]) -> str:
    pending = [c for c in changes if c.action != "none"]
    lines = [f"Helm releases on the cluster: {len(pending)} of {len(changes)} would change"]
    for change in changes:
        lines.append(f"  {change.action:<13} {change.namespace}/{change.release} ({change.detail})")
    for change in pending:
        if change.values_diff:
            lines.append("\n" + change.values_diff.rstrip("\n"))
    return "\n".join(lines)
