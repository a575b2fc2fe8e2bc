"""`eksml status --context`: each platform release's revision, Helm status and chart version."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from eksml.config import Environment
from eksml.errors import StageError
from eksml.k8s.install import normalise_version
from eksml.k8s.model import RenderedComponent
from eksml.k8s.platform import build_platform
from eksml.outputs import PlatformOutputs


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
    env: Environment, outputs: PlatformOutputs, kubeconfig: Optional[Path], context: Optional[str], *, helm: str = "helm"
) -> list[ReleaseStatus]:
    """Asks Helm about every release of the environment, in install order (read-only)."""
    from pyhelm3 import Client

    try:
        client = Client(executable=helm, kubeconfig=kubeconfig, kubecontext=context)
    except (AssertionError, OSError) as exc:
        raise StageError("status", f"cannot run helm ({helm}): {exc}", hint="install Helm 3 or 4 and put it on PATH") from None
    releases = build_platform(env, outputs).releases
    return asyncio.run(_all(client, releases))


async def _all(client, releases: tuple[RenderedComponent, ...]) -> list[ReleaseStatus]:
    return list(await asyncio.gather(*(_one(client, release) for release in releases)))


async def _one(client, release: RenderedComponent) -> ReleaseStatus:
    from pyhelm3 import errors

    pinned = str(release.version)
    try:
        revision = await client.get_current_revision(release.name, namespace=release.namespace)
        installed = (await revision.chart_metadata()).version
    except errors.ReleaseNotFoundError:
        return ReleaseStatus(release.name, release.namespace, pinned, None, None, "not installed")
    except errors.Error as exc:
        raise StageError("status", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                         resource=f"helm release {release.namespace}/{release.name}") from exc
    return ReleaseStatus(release.name, release.namespace, pinned, str(installed), revision.revision,
                         revision.status.value)
