"""One release rendered by the real Helm: `helm template` with our exact values, release name,
namespace, Kubernetes version and the API versions earlier releases install.

Helm's own checks are kept (values.schema.json, the chart's kubeVersion, `required`/`fail` in
templates) and its messages are turned into one line per problem: bad values exit 2 naming the
release and the field. A subchart missing from the package is rendered as Helm would render it
switched off, when its condition switches it off (eksml/charts/disabled_deps.py), and said so; one
switched on is refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

import yaml

from eksml.charts.kube_version import satisfies
from eksml.charts.kube_yaml import ManifestObject, read_manifest, without_documents
from eksml.charts.disabled_deps import disabled_missing, without_dependencies
from eksml.charts.package import ChartInfo, read_chart
from eksml.charts.post_render import Patch, helm_flags, patches_text, plugin_folder
from eksml.errors import ConfigError, Issue, StageError

STAGE = "render"
HELM_TIMEOUT_S = 300
_SCHEMA_LINE = re.compile(r"^\s*-\s+at '([^']*)':\s*(.+)$")
_SCHEMA_CHART = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*):$")
_EXECUTION = re.compile(r"execution error at \(([^)]*)\):\s*(.+)$", re.MULTILINE)
# one named property: "additional properties 'x' not allowed", "missing property 'x'" -> the field is x
_NAMED_PROPERTY = re.compile(r"^(?:additional properties '([^']+)' not allowed|missing property '([^']+)')$")
_KUBE_VERSION = re.compile(r"chart requires kubeVersion: (.+?) which is incompatible with Kubernetes (\S+)")


@dataclass(frozen=True)
class ReleaseRender:
    release: str
    namespace: str
    chart: str
    version: str
    manifest: Optional[str]  # Helm's output; None when the chart could not be templated
    not_rendered: Optional[str] = None  # why not
    warnings: tuple[str, ...] = ()
    without_subcharts: tuple[str, ...] = ()  # disabled dependencies left out because the package lacks them

    @property
    def rendered(self) -> bool:
        return self.manifest is not None

    @property
    def status(self) -> str:
        if not self.rendered:
            return f"rendered: no ({self.not_rendered})"
        if self.without_subcharts:
            return (f"rendered: yes, without disabled subchart(s) {', '.join(self.without_subcharts)} "
                    "(missing from the chart repository)")
        return "rendered: yes"

    def objects(self) -> list[ManifestObject]:
        return read_manifest(self.manifest, self.release) if self.manifest is not None else []

    def without(self, kind: str, names: Sequence[str]) -> "ReleaseRender":
        """This render less the chart's objects of `kind` named `names` (in the release's namespace)."""
        if self.manifest is None or not names:
            return self

        def provided(body: dict[str, Any]) -> bool:
            meta = body.get("metadata") or {}
            return (body.get("kind") == kind and meta.get("name") in names
                    and meta.get("namespace", self.namespace) == self.namespace)

        return replace(self, manifest=without_documents(self.manifest, provided))


def render_release(
    chart: Path,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    kube_version: str,
    api_versions: Sequence[str] = (),
    helm: Optional[Path] = None,
    patches: Sequence[Patch] = (),
) -> ReleaseRender:
    """The manifest Helm would install (CRDs from crds/ included, test hooks left out), through
    eksml's post-renderer when the release has `patches`, as install runs it."""
    if helm is None:
        from eksml.kube_tools import helm_binary

        helm = helm_binary()
    info = read_chart(chart)
    where = f"release {release} (chart {info.name} {info.version})"
    _check_kube_version(info, kube_version, where)
    dropped = disabled_missing(info, chart, values, where) if info.missing else ()
    with tempfile.TemporaryDirectory(prefix=f"eksml-{release}-") as scratch:
        values_file = Path(scratch) / "values.yaml"
        values_file.write_text(values_text(values))
        source = without_dependencies(chart, info, dropped, Path(scratch) / "chart") if dropped else chart
        command = [str(helm), "template", release, str(source), "--namespace", namespace, "--values", str(values_file),
                   "--kube-version", kube_version, "--include-crds", "--skip-tests"]
        command += [flag for api in api_versions for flag in ("--api-versions", api)]
        command += post_render_flags(Path(scratch), patches, Path(helm))
        env = {**os.environ, "HELM_PLUGINS": str(plugin_folder(Path(scratch)))} if patches else None
        result = _run(command, where, env)
    if result.returncode != 0:
        raise _failure(result.stderr, where)
    warnings = tuple(line for line in result.stderr.splitlines() if line.strip())
    return ReleaseRender(release, namespace, info.name, info.version, result.stdout, None, warnings,
                         tuple(map(str, dropped)))


def post_render_flags(scratch: Path, patches: Sequence[Patch], helm: Path, name: str = "patches") -> list[str]:
    """The post-renderer's flags for `helm`, with its plugin (plugin_folder(scratch), for HELM_PLUGINS)
    and the patch file `name`.json written under `scratch`."""
    if not patches:
        return []
    plugins = plugin_folder(scratch)
    patch_file = scratch / f"{name}.json"
    patch_file.write_text(patches_text(patches))
    return helm_flags(plugins, patch_file, helm_major(helm))


def helm_major(helm: Path) -> int:
    """4 or 3: how the binary takes a post-renderer."""
    result = _run([str(helm), "version", "--template", "{{ .Version }}"], f"helm at {helm}")
    found = re.match(r"v?(\d+)\.", result.stdout.strip())
    if result.returncode != 0 or not found:
        raise StageError(STAGE, f"`helm version` did not say its version: {_last_error(result.stderr)}")
    return int(found.group(1))


def values_text(values: Mapping[str, Any]) -> str:
    """The values file Helm is given, exactly."""
    return yaml.safe_dump(dict(values), sort_keys=False)


def _run(command: list[str], where: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=HELM_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise StageError(STAGE, f"`helm {command[1]}` did not finish within {HELM_TIMEOUT_S}s", resource=where) from None
    except OSError as exc:
        raise StageError(STAGE, f"cannot run helm ({command[0]}): {exc}", resource=where) from None


def _check_kube_version(info: ChartInfo, kube_version: str, where: str) -> None:
    """Helm checks this too; checked first so the message names the environment's field."""
    if info.kube_version and satisfies(kube_version, info.kube_version) is False:
        raise ConfigError([Issue(where, "cluster.kubernetes_version",
                                 f"the chart requires Kubernetes {info.kube_version}; the environment runs {kube_version}")])


def _failure(stderr: str, where: str) -> Exception:
    """Helm's error as ConfigError (our values or version are wrong) or StageError (anything else)."""
    chart_name = where.split("(chart ")[-1].split()[0]
    issues = _schema_issues(stderr, where, chart_name)
    if issues:
        return ConfigError(_unique(issues))
    found = _KUBE_VERSION.search(stderr)
    if found:
        return ConfigError([Issue(where, "cluster.kubernetes_version",
                                  f"the chart requires Kubernetes {found.group(1)}; the environment runs {found.group(2)}")])
    found = _EXECUTION.search(stderr)
    if found:
        return ConfigError([_execution_issue(found, where)])
    if "missing in charts/ directory" in stderr:
        missing = stderr.rsplit(":", 1)[-1].strip()
        return StageError(STAGE, f"the chart package lacks its subchart(s) {missing}", resource=where)
    return StageError(STAGE, f"helm template failed: {_last_error(stderr)}", resource=where)


def _schema_issues(text: str, where: str, chart_name: str) -> list[Issue]:
    """`- at '/a/b/0': got string, want number` lines, under the (sub)chart whose schema refused them."""
    issues, chart = [], chart_name
    for line in text.splitlines():
        heading = _SCHEMA_CHART.match(line.strip())
        if heading:
            chart = heading.group(1)
            continue
        found = _SCHEMA_LINE.match(line.removeprefix("[ERROR] values.yaml: "))
        if found and found.group(2).strip() != "validation failed":  # that one only heads the list
            path = _dotted(found.group(1))
            named = _NAMED_PROPERTY.match(found.group(2).strip())
            if named:
                field = named.group(1) or named.group(2)
                path = f"{path}.{field}" if path else field
            if chart != chart_name:  # a subchart's values live under its name
                path = f"{chart}.{path}" if path else chart
            issues.append(Issue(where, path, f"{found.group(2)} (the chart's values.schema.json)"))
    return issues


def _execution_issue(found: re.Match, where: str) -> Issue:
    return Issue(where, "", f"the chart refuses these values: {found.group(2).strip()} (in {found.group(1)})")


def _dotted(pointer: str) -> str:
    """JSON pointer /a/b/0 -> a.b[0], the way eksml names fields everywhere."""
    path = ""
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


def _last_error(stderr: str) -> str:
    lines = [line.removeprefix("Error: ").strip() for line in stderr.splitlines()
             if line.strip() and not line.startswith("Use --debug")]
    return (lines or ["no message"])[-1][:500]
