"""Every container image the platform runs, per release: the list an air-gapped company mirrors.

Read from the rendered manifests: containers of every pod template (any object with a `containers`
list, so ServingRuntimes and InferenceServices count too), the GPU operator's operands, which its
ClusterPolicy names as repository/image/version because the operator creates those pods itself, and
the images a webhook adds to pods from a ConfigMap of JSON settings (KServe's storage initializer,
agent and router in `inferenceservice-config`), which no pod template names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from eksml.charts.kube_yaml import ManifestObject

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_STEP_CONTAINERS = ("container", "script")  # Argo templates: one container each


@dataclass(frozen=True)
class Image:
    release: str
    reference: str  # as the manifest names it
    used_by: str  # the object (and container) that runs it

    @property
    def pinned_by(self) -> str:
        """digest, tag, or "latest (no tag)" — a mirror needs the exact one."""
        if "@" in self.reference:
            return "digest " + self.reference.split("@", 1)[1]
        last = self.reference.rsplit("/", 1)[-1]
        return f"tag {last.split(':', 1)[1]}" if ":" in last else "no tag (latest)"


def _walk(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _CONTAINER_LISTS and isinstance(value, list):
                for container in value:
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        yield str(container.get("name", "")), container["image"]
            if key in _STEP_CONTAINERS and isinstance(value, dict) and isinstance(value.get("image"), str):
                yield str(node.get("name", "")), value["image"]  # an Argo template, named as its step
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def operand_images(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for operand, settings in (body.get("spec") or {}).items():
        if isinstance(settings, dict) and settings.get("enabled") is not False and settings.get("image"):
            repository, image, version = settings.get("repository"), settings["image"], settings.get("version")
            yield operand, _with_version(f"{repository}/{image}" if repository else str(image), version)


_IMAGE_SETTINGS = ("image", "defaultJobImage")


def configured_images(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """`{"image": ...}` in a ConfigMap's JSON values, at the top or one level down (named entries)."""
    for key, text in (body.get("data") or {}).items():
        try:
            settings = json.loads(text) if isinstance(text, str) and text.lstrip().startswith("{") else None
        except ValueError:
            continue
        if not isinstance(settings, dict) or str(key).startswith("_"):  # `_example`: documentation only
            continue
        entries = [(str(key), settings)] + [(f"{key}.{name}", value) for name, value in settings.items()
                                            if isinstance(value, dict)]
        for name, entry in entries:
            for field in _IMAGE_SETTINGS:
                if isinstance(entry.get(field), str) and entry[field]:
                    yield name, _with_version(entry[field], entry.get("defaultImageVersion"))


def _with_version(reference: str, version: Any) -> str:
    if version and "@" not in reference and ":" not in reference.rsplit("/", 1)[-1]:
        return reference + (f"@{version}" if str(version).startswith("sha256:") else f":{version}")
    return reference


def _pairs(obj: ManifestObject) -> Iterator[tuple[str, str]]:
    if obj.kind == "ClusterPolicy":
        return operand_images(obj.body)
    if obj.kind == "ConfigMap":
        return configured_images(obj.body)
    return _walk(obj.body.get("spec"))


def images_of(release: str, objects: list[ManifestObject]) -> list[Image]:
    found: dict[str, Image] = {}
    for obj in objects:
        if obj.kind == "CustomResourceDefinition":
            continue
        for container, reference in _pairs(obj):
            found.setdefault(reference, Image(release, reference, f"{obj} ({container})" if container else str(obj)))
    return sorted(found.values(), key=lambda i: i.reference)
