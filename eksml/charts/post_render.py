"""Changes eksml makes to a release's rendered manifests where its chart has no value for them (a
container the chart hard-codes, a volume it offers no value for).

Helm runs this file as a post-renderer plugin, both for `helm template` (what eksml checks) and for
`helm upgrade --install` (what it installs), so the checks see exactly what the cluster gets. A
patch names a container (every init or main container of that name, in any pod template of the
release) or a workload's pod spec ("*": every pod template), and says which fields to set (replacing
what the chart wrote) and which lists to extend. An init container a pod patch adds without an image
runs the image of the pod's first container (the chart's own, whatever values chose). A patch that
matches nothing changes nothing: the
render's Pod Security check then still refuses whatever the patch was meant to fix.

Run as a script by path, with only the standard library and PyYAML, so that each Helm call pays for
no more than one small interpreter start.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import yaml

PLUGIN_NAME = "eksml-post-render"
ALL_PODS = "*"
HELM3_EXECUTABLE = "post-render"
_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
_COMMENT_LINES = re.compile(r"\A(?:[ \t]*(?:#.*)?\n)*")
PLUGINS_FOLDER = "plugins"
# kind -> where its pod spec sits (here, not in eksml/k8s/checks, because this file runs on its own)
POD_SPEC_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


@dataclass(frozen=True)
class Patch:
    """`target` "container": `name` is a container's name; "pod": a workload's name or ALL_PODS."""

    target: str
    name: str
    set: dict[str, Any] = field(default_factory=dict)
    append: dict[str, list[Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "name": self.name, "set": self.set, "append": self.append}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Patch":
        return cls(str(raw["target"]), str(raw["name"]), dict(raw.get("set") or {}), dict(raw.get("append") or {}))


def container_patch(name: str, append: Optional[dict[str, list[Any]]] = None, **fields: Any) -> Patch:
    return Patch("container", name, fields, append or {})


def pod_patch(workload: str, append: Optional[dict[str, list[Any]]] = None, **fields: Any) -> Patch:
    return Patch("pod", workload, fields, append or {})


def patches_text(patches: Sequence[Patch]) -> str:
    """The patch file the plugin is given; also what the render cache keys on."""
    return json.dumps([p.to_json() for p in patches], sort_keys=True)


def pod_spec(body: dict[str, Any]) -> Optional[dict[str, Any]]:
    path = POD_SPEC_PATHS.get(str(body.get("kind")))
    node: Any = body
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    return node if path and isinstance(node, dict) else None


def _apply(target: dict[str, Any], patch: Patch) -> None:
    target.update(json.loads(json.dumps(patch.set)))  # a copy per target: no shared lists in the output
    for key, items in patch.append.items():
        target[key] = [*(target.get(key) or []), *json.loads(json.dumps(items))]


def _apply_to_pod(spec: dict[str, Any], patch: Patch) -> None:
    added = len(patch.append.get("initContainers") or [])
    _apply(spec, patch)
    main = next(iter(spec.get("containers") or []), {})
    for init in (spec.get("initContainers") or [])[len(spec.get("initContainers") or []) - added:]:
        if isinstance(init, dict) and "image" not in init and isinstance(main, dict) and "image" in main:
            init["image"] = main["image"]


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers"):
        yield from (c for c in spec.get(key) or [] if isinstance(c, dict))


def patch_object(body: dict[str, Any], patches: Sequence[Patch]) -> bool:
    """Apply every matching patch to one object in place; True when it changed."""
    spec = pod_spec(body)
    if spec is None:
        return False
    workload = str((body.get("metadata") or {}).get("name", ""))
    changed = False
    for patch in patches:
        if patch.target == "pod" and patch.name in (ALL_PODS, workload):
            _apply_to_pod(spec, patch)
            changed = True
        elif patch.target == "container":
            for container in _containers(spec):
                if container.get("name") == patch.name:
                    _apply(container, patch)
                    changed = True
    return changed


def patch_manifest(text: str, patches: Sequence[Patch]) -> str:
    """Helm's multi-document output with the patches applied; documents no patch touches, and the
    `# Source:` comments heading each document, are kept byte for byte."""
    chunks = _SEPARATOR.split(text)
    out = []
    for chunk in chunks:
        body = yaml.safe_load(chunk) if chunk.strip() else None
        if isinstance(body, dict) and patch_object(body, patches):
            heading = _COMMENT_LINES.match(chunk.lstrip("\n"))
            comments = heading.group(0) if heading else ""
            chunk = "\n" + comments + yaml.safe_dump(body, sort_keys=False)
        out.append(chunk)
    return "---".join(out)


def plugin_folder(scratch: Path) -> Path:
    """A Helm plugins folder under `scratch` (for HELM_PLUGINS) holding this post-renderer, run by
    this interpreter: the plugin Helm 4 names, and the executable Helm 3 is given the path of."""
    root = scratch / PLUGINS_FOLDER
    folder = root / PLUGIN_NAME
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / HELM3_EXECUTABLE
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    script.chmod(0o755)
    plugin = {
        "apiVersion": "v1", "type": "postrenderer/v1", "name": PLUGIN_NAME, "version": "1.0.0",
        "runtime": "subprocess",
        "runtimeConfig": {"platformCommand": [{"command": sys.executable, "args": [str(Path(__file__).resolve())]}]},
    }
    (folder / "plugin.yaml").write_text(yaml.safe_dump(plugin, sort_keys=False))
    return root


def helm_flags(plugins: Path, patch_file: Path, helm_major: int) -> list[str]:
    """Helm 4 takes a post-renderer plugin's name; Helm 3 an executable's path."""
    renderer = PLUGIN_NAME if helm_major >= 4 else str(plugins / PLUGIN_NAME / HELM3_EXECUTABLE)
    return ["--post-renderer", renderer, "--post-renderer-args", str(patch_file)]


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write(f"usage: {PLUGIN_NAME} PATCH_FILE (manifests on stdin)\n")
        return 2
    patches = [Patch.from_json(raw) for raw in json.loads(Path(argv[0]).read_text())]
    sys.stdout.write(patch_manifest(sys.stdin.read(), patches))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
