"""Every container image the platform runs, per release: the list an air-gapped company mirrors.

Read from the rendered manifests: containers of every pod template (any object with a `containers`
list, so ServingRuntimes and InferenceServices count too), and the GPU operator's operands, which its
ClusterPolicy names as repository/image/version because the operator creates those pods itself.
"""

from __future__ import annotations

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
            reference = f"{repository}/{image}" if repository else str(image)
            if version and "@" not in reference and ":" not in reference.rsplit("/", 1)[-1]:
                reference += f"@{version}" if str(version).startswith("sha256:") else f":{version}"
            yield operand, reference


def images_of(release: str, objects: list[ManifestObject]) -> list[Image]:
    found: dict[str, Image] = {}
    for obj in objects:
        if obj.kind == "CustomResourceDefinition":
            continue
        pairs = operand_images(obj.body) if obj.kind == "ClusterPolicy" else _walk(obj.body.get("spec"))
        for container, reference in pairs:
            found.setdefault(reference, Image(release, reference, f"{obj} ({container})" if container else str(obj)))
    return sorted(found.values(), key=lambda i: i.reference)
