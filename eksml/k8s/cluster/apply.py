"""Objects eksml owns, applied with server-side apply under field manager `eksml`.

Server-side apply makes eksml the owner of exactly the fields it sets: re-applying is idempotent,
and a field someone changed by hand is taken back (force), while fields others own are left alone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Protocol

from eksml.k8s.model.records import Manifest, ObjectRef

FIELD_MANAGER = "eksml"


class ObjectApplier(Protocol):
    def apply(self, manifest: Manifest) -> None: ...

    def exists(self, ref: ObjectRef) -> bool: ...

    def delete(self, ref: ObjectRef) -> bool: ...


class TransientApplyError(Exception):
    """The API server could not take the request now (overloaded, restarting, CRD not served yet)."""


class KubernetesApplier:
    """Talks to the cluster through the kubernetes client's dynamic API (any kind, CRDs included)."""

    def __init__(self, kubeconfig: Optional[Path] = None, context: Optional[str] = None,
                 discovery_cache: Optional[Path] = None):
        self._kubeconfig = kubeconfig
        self._context = context
        self._discovery_cache = discovery_cache  # None: the client's default file in the temp directory
        self._client = None

    def _dynamic(self):
        if self._client is None:
            from kubernetes import config, dynamic

            api = config.new_client_from_config(
                config_file=str(self._kubeconfig) if self._kubeconfig else None, context=self._context
            )
            cache = str(self._discovery_cache) if self._discovery_cache else None
            self._client = dynamic.DynamicClient(api, cache_file=cache)
        return self._client

    def _resource(self, api_version: str, kind: str):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        client = self._dynamic()
        try:
            return client.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            # A CRD installed a moment ago: refresh discovery once before calling it missing.
            client.resources.invalidate_cache()
            try:
                return client.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError as exc:
                raise TransientApplyError(f"{kind} ({api_version}) is not served by the cluster yet") from exc

    def apply(self, manifest: Manifest) -> None:
        from kubernetes.client.exceptions import ApiException

        resource = self._resource(manifest["apiVersion"], manifest["kind"])
        meta = manifest["metadata"]
        try:
            self._dynamic().server_side_apply(
                resource, body=manifest, name=meta["name"], namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True,
            )
        except ApiException as exc:
            if exc.status in (429, 500, 502, 503, 504):
                raise TransientApplyError(f"{ObjectRef.of(manifest)}: HTTP {exc.status} {exc.reason}") from exc
            raise

    def exists(self, ref: ObjectRef) -> bool:
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            resource = self._resource(ref.api_version, ref.kind)
        except TransientApplyError:
            return False  # its kind is not served (any more): no such object
        try:
            self._dynamic().get(resource, name=ref.name, namespace=ref.namespace)
        except NotFoundError:
            return False
        return True

    def delete(self, ref: ObjectRef) -> bool:
        """False when there was nothing to delete. Finalizers may keep it a while (see `wait_until_gone`)."""
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            resource = self._resource(ref.api_version, ref.kind)
        except TransientApplyError:
            return False
        try:
            self._dynamic().delete(resource, name=ref.name, namespace=ref.namespace, propagation_policy="Background")
        except NotFoundError:
            return False
        return True


def wait_until_gone(applier: ObjectApplier, ref: ObjectRef, timeout_s: float, poll_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if not applier.exists(ref):
                return True
        except TransientApplyError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def wait_until_exists(applier: ObjectApplier, ref: ObjectRef, timeout_s: float, poll_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if applier.exists(ref):
                return True
        except TransientApplyError:
            pass  # the API server is busy; ask again at the next poll
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
