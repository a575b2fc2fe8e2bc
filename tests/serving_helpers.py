"""Shared helpers of the serving/access/observability tests: edited copies of shipped environments
and the platform eksml builds from them (predicted outputs, no cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import yaml

from eksml.config import load_environment
from eksml.errors import ConfigError
from eksml.k8s.model.platform import KubernetesLayer, build_platform
from eksml.k8s.rendering.render import current_outputs
from eksml.paths import ENVIRONMENTS_DIR


def edited(base: str, tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    data = yaml.safe_load((ENVIRONMENTS_DIR / f"{base}.yaml").read_text())
    edit(data)
    path = tmp_path / f"{base}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def issues_of(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    assert caught.value.exit_code == 2
    return {issue.path: issue.message for issue in caught.value.issues}


def platform_of(ref) -> KubernetesLayer:
    env = load_environment(ref)
    return build_platform(env, current_outputs(env))


def objects_of(platform: KubernetesLayer, component: str, kind: str) -> list[dict]:
    return [m for m in platform.component(component).objects if m["kind"] == kind]


def weights_source(isvc: dict) -> str:
    """Where an InferenceService's weights come from: its fetch-weights init container's source when
    they are cached on EFS (storageUri is then the cache volume), else its storageUri."""
    predictor = isvc["spec"]["predictor"] if "spec" in isvc else isvc
    for container in predictor.get("initContainers") or []:
        if container["name"] == "fetch-weights":
            return next(e["value"] for e in container["env"] if e["name"] == "SOURCE")
    return predictor["model"]["storageUri"]
