"""Listing one kind of custom resource from a live cluster (read-only), for the status reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

ListObjects = Callable[[str, str], list[dict[str, Any]]]  # (namespace, label selector) -> items


def custom_object_lister(group: str, version: str, plural: str, kubeconfig: Optional[Path],
                         context: Optional[str]) -> ListObjects:
    def list_objects(namespace: str, selector: str) -> list[dict[str, Any]]:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None, context=context)
        found = client.CustomObjectsApi(api).list_namespaced_custom_object(
            group, version, namespace, plural, label_selector=selector)
        return list(found.get("items") or [])

    return list_objects
