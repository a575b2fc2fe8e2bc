"""Install or upgrade the platform on a cluster: owned objects by server-side apply, charts with pyhelm3.

Per component, in dependency order: prerequisites (then wait for Secrets their ExternalSecrets
create), the Helm release, then its post-release objects. Each release is checked against the
pinned chart version before and after, installed with --atomic and --wait under a timeout, and
retried with backoff on transient errors (API server unreachable, etcd hiccups, a release stuck in a
pending state by an interrupted run). A failure that leaves the release failed or pending is rolled
back to the last good revision before the error is reported. Nothing is installed if rendering or
the scheduling check fails. `uninstall_platform` undoes it all in reverse, before an AWS destroy.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Literal, Optional, TypeVar

from eksml.components.baseline import CLUSTER_BASELINE
from eksml.config.models import Environment
from eksml.errors import StageError, first_line
from eksml.k8s.model.manifests import synced_objects
from eksml.k8s.cluster.apply import (
    KubernetesApplier,
    ObjectApplier,
    TransientApplyError,
    wait_until_exists,
    wait_until_gone,
)
from eksml.k8s.cluster.helm_client import helm_client, helm_plugins_restored, patch_description, patches_changed
from eksml.k8s.model.network_policies import TEAM_LABEL
from eksml.k8s.model.records import Manifest, ObjectRef, RenderedComponent
from eksml.k8s.model.platform import build_platform
from eksml.k8s.checks.scheduling import check_scheduling
from eksml.contract.outputs import AwsOutputs

STAGE = "install"
T = TypeVar("T")

# pyhelm3 logs every failed helm call as a warning; eksml reports failures itself, through events.
logging.getLogger("pyhelm3").addHandler(logging.NullHandler())

_TRANSIENT_HELM = re.compile(
    r"connection refused|connection reset|i/o timeout|tls handshake timeout|etcdserver|"
    r"the server is currently unable to handle the request|too many requests|unexpected eof|"
    r"http2: client connection lost|another operation \(install/upgrade/rollback\) is in progress|"
    r"kubernetes cluster unreachable",
    re.IGNORECASE,
)

Phase = Literal["start", "applied", "retry", "installed", "unchanged", "failed", "rolled back", "deleted",
                "uninstalled", "done"]


@dataclass(frozen=True)
class InstallEvent:
    component: str
    phase: Phase
    message: str = ""
    attempt: int = 1


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay_s: float = 5.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        return self.first_delay_s * self.factor ** (attempt - 1)


@dataclass(frozen=True)
class ReleaseOutcome:
    name: str
    namespace: str
    chart: str
    version: str
    revision: Optional[int]
    changed: bool
    attempts: int


@dataclass(frozen=True)
class InstallResult:
    order: tuple[str, ...]
    releases: tuple[ReleaseOutcome, ...]
    objects_applied: int


def normalise_version(version: str) -> str:
    return str(version).removeprefix("v")


def timeout_seconds(timeout: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", timeout)
    if not match:
        raise ValueError(f"not a duration: {timeout}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def is_transient(exc: BaseException) -> bool:
    from pyhelm3 import errors

    if isinstance(exc, (TransientApplyError, errors.ConnectionError)):
        return True
    if isinstance(exc, (errors.ChartNotFoundError, errors.FailedToRenderChartError,
                        errors.InvalidResourceError, errors.ResourceAlreadyExistsError)):
        return False
    if isinstance(exc, errors.Error):
        return bool(_TRANSIENT_HELM.search(str(exc)))
    return False


def install_platform(
    env: Environment,
    outputs: AwsOutputs,
    kubeconfig: Optional[Path],
    context: Optional[str],
    on_event: Optional[Callable[[InstallEvent], None]] = None,
    *,
    helm: str = "helm",
    applier: Optional[ObjectApplier] = None,
    values_dir: Optional[Path] = None,
    retry: RetryPolicy = RetryPolicy(),
    secret_poll_s: float = 5.0,
    secret_wait_s: Optional[float] = None,
) -> InstallResult:
    """`secret_wait_s` bounds the wait for ExternalSecret-made Secrets (default: the component's timeout)."""
    if outputs.predicted:
        raise StageError(STAGE, "the AWS outputs are predicted, not read from an apply",
                         hint="apply the AWS layer first; its outputs are saved to the environment's outputs.json")
    platform = build_platform(env, outputs, values_dir)
    check_scheduling(platform)  # ConfigError before anything touches the cluster
    with tempfile.TemporaryDirectory(prefix="eksml-discovery-") as scratch:
        installer = _Installer(
            helm=helm, kubeconfig=kubeconfig, context=context,
            applier=applier or KubernetesApplier(kubeconfig, context, Path(scratch) / "discovery.json"),
            emit=on_event or (lambda event: None), retry=retry, poll_s=secret_poll_s, wait_s=secret_wait_s,
            patched=tuple(c for c in platform.components if c.patches), scratch=Path(scratch),
        )
        with helm_plugins_restored():
            return asyncio.run(installer.run(platform.components))


def uninstall_platform(
    env: Environment,
    kubeconfig: Optional[Path],
    context: Optional[str],
    on_event: Optional[Callable[[InstallEvent], None]] = None,
    *,
    outputs: Optional[AwsOutputs] = None,
    helm: str = "helm",
    applier: Optional[ObjectApplier] = None,
    values_dir: Optional[Path] = None,
    retry: RetryPolicy = RetryPolicy(),
    poll_s: float = 5.0,
    wait_s: Optional[float] = None,
) -> list[str]:
    """Remove the platform before the AWS layer is destroyed, so controllers clean up what they made.

    Team namespaces go first, while the load balancer controller and CSI drivers still run to delete
    their load balancers and volumes. Then components in reverse install order: custom resources
    before the release that serves them (NodePools while Karpenter still runs to drain and terminate
    its nodes), then the release, then its prerequisites. Returns the releases that were removed.
    """
    from eksml.k8s.rendering.render import current_outputs

    platform = build_platform(env, outputs or current_outputs(env), values_dir)
    with tempfile.TemporaryDirectory(prefix="eksml-discovery-") as scratch:
        installer = _Installer(
            helm=helm, kubeconfig=kubeconfig, context=context,
            applier=applier or KubernetesApplier(kubeconfig, context, Path(scratch) / "discovery.json"),
            emit=on_event or (lambda event: None), retry=retry, poll_s=poll_s, wait_s=wait_s,
        )
        return asyncio.run(installer.uninstall(platform.components))


class _Installer:
    def __init__(self, *, helm: str, kubeconfig: Optional[Path], context: Optional[str], applier: ObjectApplier,
                 emit: Callable[[InstallEvent], None], retry: RetryPolicy, poll_s: float, wait_s: Optional[float],
                 patched: tuple[RenderedComponent, ...] = (), scratch: Optional[Path] = None):
        self.helm, self.kubeconfig, self.context = helm, kubeconfig, context
        self.patched, self.scratch = patched, scratch  # releases installed through the post-renderer
        self.applier, self.emit, self.retry = applier, emit, retry
        self.poll_s, self.wait_s = poll_s, wait_s  # polling for objects to appear / go; None: per-component timeout
        self.objects_applied = 0
        self._client = None

    def client(self):
        if self._client is None:
            try:
                self._client = helm_client(self.helm, self.kubeconfig, self.context, self.patched, self.scratch)
            except (AssertionError, OSError) as exc:
                raise StageError(STAGE, f"cannot run helm ({self.helm}): {exc}",
                                 hint="install Helm 3 or 4 and put it on PATH") from None
        return self._client

    async def run(self, components: tuple[RenderedComponent, ...]) -> InstallResult:
        outcomes = []
        for component in components:
            self.emit(InstallEvent(component.name, "start"))
            await self._apply_all(component, component.prerequisites)
            if component.is_release:
                outcomes.append(await self._release(component))
            await self._apply_all(component, component.objects)
            self.emit(InstallEvent(component.name, "done"))
        return InstallResult(tuple(c.name for c in components), tuple(outcomes), self.objects_applied)

    async def _retrying(self, component: str, what: str, action: Callable[[], Awaitable[T]],
                        before_retry: Optional[Callable[[], Awaitable[None]]] = None) -> tuple[T, int]:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await action(), attempt
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_transient(exc) or attempt == self.retry.attempts:
                    raise
                delay = self.retry.delay(attempt)
                self.emit(InstallEvent(component, "retry", f"{what}: {first_line(exc)}; retry in {delay:g}s", attempt))
                await asyncio.sleep(delay)
                if before_retry is not None:
                    await before_retry()
        raise AssertionError("unreachable")

    async def uninstall(self, components: tuple[RenderedComponent, ...]) -> list[str]:
        team_namespaces = tuple(
            m for c in components for m in c.prerequisites
            if m["kind"] == "Namespace" and TEAM_LABEL in m["metadata"].get("labels", {})
        )
        await self._delete_all(CLUSTER_BASELINE.name, team_namespaces, wait=True)
        removed = []
        for component in reversed(components):
            self.emit(InstallEvent(component.name, "start"))
            await self._delete_all(component.name, component.objects, wait=True)
            if component.is_release and await self._uninstall_release(component):
                removed.append(component.name)
            rest = tuple(m for m in component.prerequisites if m not in team_namespaces)
            await self._delete_all(component.name, rest, wait=False)
            self.emit(InstallEvent(component.name, "done"))
        return removed

    async def _delete_all(self, component: str, manifests: tuple[Manifest, ...], wait: bool) -> None:
        deleted = []
        for manifest in reversed(manifests):  # dependents before what they live in
            ref = ObjectRef.of(manifest)

            async def delete(ref=ref) -> bool:
                return self.applier.delete(ref)

            try:
                gone_already = not (await self._retrying(component, f"delete {ref}", delete))[0]
            except Exception as exc:
                raise StageError("uninstall", first_line(exc), resource=str(ref)) from exc
            if not gone_already:
                deleted.append(ref)
        if deleted:
            self.emit(InstallEvent(component, "deleted", f"{len(deleted)} object(s)"))
        if not wait:
            return
        limit = self.wait_s if self.wait_s is not None else 900.0
        for ref in deleted:
            if not await asyncio.to_thread(wait_until_gone, self.applier, ref, limit, self.poll_s):
                # Keep going: the AWS destroy and the leftovers sweep still run after this.
                self.emit(InstallEvent(component, "failed", f"{ref} still present after {limit:g}s (finalizers?)"))

    async def _uninstall_release(self, component: RenderedComponent) -> bool:
        from pyhelm3 import errors

        client = self.client()

        async def present() -> bool:
            try:
                await client.get_current_revision(component.name, namespace=component.namespace)
            except errors.ReleaseNotFoundError:
                return False
            return True

        async def uninstall() -> None:
            await client.uninstall_release(component.name, namespace=component.namespace, wait=True,
                                           timeout=component.timeout)

        try:
            if not (await self._retrying(component.name, "status", present))[0]:
                return False
            await self._retrying(component.name, "uninstall", uninstall)
        except errors.Error as exc:
            raise StageError("uninstall", first_line(exc), resource=f"helm release {component.namespace}/{component.name}") from exc
        self.emit(InstallEvent(component.name, "uninstalled"))
        return True

    # -- owned objects ------------------------------------------------------------------------------

    async def _apply_all(self, component: RenderedComponent, manifests: tuple[Manifest, ...]) -> None:
        for manifest in manifests:
            ref = ObjectRef.of(manifest)

            async def apply(manifest=manifest) -> None:
                self.applier.apply(manifest)

            try:
                await self._retrying(component.name, f"apply {ref}", apply)
            except Exception as exc:
                self.emit(InstallEvent(component.name, "failed", f"{ref}: {first_line(exc)}"))
                raise StageError(STAGE, first_line(exc), resource=str(ref)) from exc
            self.objects_applied += 1
        if manifests:
            self.emit(InstallEvent(component.name, "applied", f"{len(manifests)} object(s)"))
        for secret in synced_objects(manifests):
            limit = self.wait_s if self.wait_s is not None else timeout_seconds(component.timeout)
            try:
                found = await asyncio.to_thread(wait_until_exists, self.applier, secret, limit, self.poll_s)
            except Exception as exc:
                raise StageError(STAGE, f"cannot read {secret}: {first_line(exc)}", resource=str(secret)) from exc
            if not found:
                raise StageError(STAGE, f"{secret} was not created by its ExternalSecret within {limit:g}s",
                                 resource=str(secret),
                                 hint="check the external-secrets controller logs and its IRSA role's access to the secret")

    # -- Helm releases ------------------------------------------------------------------------------

    async def _release(self, component: RenderedComponent) -> ReleaseOutcome:
        from pyhelm3 import errors

        client = self.client()
        name, namespace, pinned = component.name, component.namespace, str(component.version)
        resource = f"helm release {namespace}/{name}"
        chart_ref = component.chart

        async def fetch_chart():
            return await client.get_chart(chart_ref.ref, repo=chart_ref.repo, version=pinned)

        try:
            chart, _ = await self._retrying(name, "fetch chart", fetch_chart)
        except errors.Error as exc:
            raise StageError(STAGE, f"cannot fetch chart {chart_ref} {pinned}: {first_line(exc)}", resource=resource) from exc
        if normalise_version(chart.metadata.version) != normalise_version(pinned):
            raise StageError(STAGE, f"chart {chart_ref} resolved to version {chart.metadata.version}, "
                                    f"but the environment pins {pinned}", resource=resource)

        async def make_proceedable() -> None:
            await client.get_proceedable_revision(name, namespace=namespace, timeout=component.timeout)

        async def install():
            current = await client.get_proceedable_revision(name, namespace=namespace, timeout=component.timeout)
            if not (await client.should_install_or_upgrade_release(current, chart, component.values)
                    or patches_changed(component, current)):
                return current, False
            revision = await client.install_or_upgrade_release(
                name, chart, component.values, atomic=True, wait=True, timeout=component.timeout,
                namespace=namespace, create_namespace=True, description=patch_description(component),
            )
            return revision, True

        try:
            (revision, changed), attempts = await self._retrying(name, "install", install, before_retry=make_proceedable)
        except errors.Error as exc:
            self.emit(InstallEvent(name, "failed", first_line(exc)))
            note = await self._recover(component)
            raise StageError(STAGE, f"{first_line(exc)}{note}", resource=resource,
                             hint=f"see `helm history {name} -n {namespace}` and the pods in namespace {namespace}") from exc

        installed = (await revision.chart_metadata()).version
        if normalise_version(installed) != normalise_version(pinned):
            raise StageError(STAGE, f"installed chart version is {installed}, but the environment pins {pinned}",
                             resource=resource)
        self.emit(InstallEvent(name, "installed" if changed else "unchanged",
                               f"{chart_ref} {installed}, revision {revision.revision}", attempts))
        return ReleaseOutcome(name, namespace, str(chart_ref), str(installed), revision.revision, changed, attempts)

    async def _recover(self, component: RenderedComponent) -> str:
        """Leave no release failed or half-applied: back to the last deployed revision, or gone."""
        from pyhelm3 import errors
        from pyhelm3.models import ReleaseRevisionStatus as Status

        client = self.client()
        try:
            current = await client.get_current_revision(component.name, namespace=component.namespace)
        except errors.ReleaseNotFoundError:
            return " (nothing was left installed)"
        except errors.Error:
            return ""
        if current.status == Status.DEPLOYED:
            return f" (release is at deployed revision {current.revision})"
        try:
            if current.revision > 1 and current.status in (Status.FAILED, Status.PENDING_UPGRADE, Status.PENDING_ROLLBACK):
                back = await current.release.rollback(cleanup_on_fail=True, wait=True, timeout=component.timeout)
                self.emit(InstallEvent(component.name, "rolled back", f"to revision {back.revision}"))
                return f" (rolled back; now at revision {back.revision})"
            if current.status in (Status.FAILED, Status.PENDING_INSTALL):
                await current.release.uninstall(wait=True, timeout=component.timeout)
                self.emit(InstallEvent(component.name, "rolled back", "failed first install removed"))
                return " (the failed first install was removed)"
        except errors.Error as exc:
            return f" (rollback failed too: {first_line(exc)})"
        return ""
