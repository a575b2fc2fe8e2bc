"""GitOps mode: the platform as an Argo CD app-of-apps, in a folder a user commits to Git.

One Application per Helm release carries the chart (publisher's repository or the environment's
mirror), the version and the exact values `eksml render` computes — the same merged dict the helm
path installs — so a promotion pull request changes exactly what Argo CD will sync. A release eksml
patches after rendering (eksml/charts/post_render.py) is committed as its checked, patched manifests
instead, since Argo CD has no post-renderer. The objects eksml owns go into plain folders, each synced by its own Application. Sync waves follow eksml's install
order (prerequisites, release, post-release objects per component); prune and self-heal come from
the environment's `gitops` settings. `root-app.yaml` is applied once; Argo CD takes it from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from eksml.charts.sources import ChartRequest
from eksml.config.models import Environment
from eksml.contract.names import ENVIRONMENT_TAG
from eksml.errors import ConfigError, Issue
from eksml.k8s.model.components.argocd import ARGOCD_NAMESPACE
from eksml.k8s.model.manifests import metadata, object_path
from eksml.k8s.model.records import Manifest, RenderedComponent
from eksml.k8s.model.platform import KubernetesLayer
from eksml.k8s.templating.chart_render import ChartRenders
from eksml.k8s.checks.secret_check import secret_message
from eksml.k8s.model.secret_data import unallowed_keys

IN_CLUSTER = "https://kubernetes.default.svc"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
ROOT_APP = "root-app.yaml"
APPS_DIR = "apps"


def _sync_policy(env: Environment) -> dict[str, Any]:
    return {
        "automated": {"prune": env.gitops.prune, "selfHeal": env.gitops.self_heal},
        # CRDs of kube-prometheus-stack and the GPU operator exceed client-side apply's annotation limit.
        "syncOptions": ["ServerSideApply=true"],
    }


def _application(env: Environment, name: str, wave: int, source: dict[str, Any], namespace: str) -> Manifest:
    destination = {"server": IN_CLUSTER, **({"namespace": namespace} if namespace else {})}
    meta = metadata(name, ARGOCD_NAMESPACE, labels={ENVIRONMENT_TAG: env.name},
                    annotations={WAVE_ANNOTATION: str(wave)})
    meta["finalizers"] = [FINALIZER]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": {"project": "default", "source": source, "destination": destination, "syncPolicy": _sync_policy(env)},
    }


def chart_source(env: Environment, component: RenderedComponent) -> dict[str, Any]:
    """Argo CD names Helm OCI repositories without the oci:// scheme (and needs them registered)."""
    request = ChartRequest.of(component.chart.name, component.version, component.chart.repo).from_mirror(env.charts.mirror)
    repo = request.repository.removeprefix("oci://")
    return {"repoURL": repo, "chart": request.name, "targetRevision": component.version,
            "helm": {"releaseName": component.name, "valuesObject": component.values}}


def oci_repository(url: str) -> Manifest:
    name = "eksml-" + url.replace("/", "-").replace(".", "-")[:50].strip("-")
    meta = metadata(name, ARGOCD_NAMESPACE, labels={"argocd.argoproj.io/secret-type": "repository"})
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "stringData": {"type": "helm", "name": name, "url": url, "enableOCI": "true"}}


def _rendered_release(files: dict[str, str | Manifest], component: RenderedComponent,
                      rendered: Optional[Mapping[str, Sequence[Manifest]]], folder: str) -> None:
    if rendered is None or component.name not in rendered:
        raise ValueError(f"{component.name} is patched after rendering: gitops needs its rendered objects")
    for manifest in rendered[component.name]:
        namespaced = {**manifest, "metadata": {"namespace": component.namespace, **manifest.get("metadata", {})}}
        files[f"{folder}/{Path(object_path(component.name, namespaced)).name}"] = manifest


def gitops_files(env: Environment, platform: KubernetesLayer,
                 rendered: Optional[Mapping[str, Sequence[Manifest]]] = None) -> dict[str, str | Manifest]:
    """Relative path -> manifest (or text) of every file of the app-of-apps folder. `rendered`: the
    checked objects of each release that has post-render patches, by release name."""
    if env.gitops is None:
        raise ConfigError([Issue(env.name, "gitops", "rendering for GitOps needs gitops: {repo_url: ...} "
                                                     "(and delivery: gitops to install Argo CD)")])
    base = env.gitops.path.rstrip("/")
    git = {"repoURL": env.gitops.repo_url, "targetRevision": env.gitops.revision}
    files: dict[str, str | Manifest] = {}
    oci_repos: set[str] = set()
    for index, component in enumerate(platform.components):
        phases = (("pre", component.prerequisites, 3 * index), ("post", component.objects, 3 * index + 2))
        for phase, manifests, wave in phases:
            if not manifests:
                continue
            folder = f"objects/{component.name}/{phase}"
            for manifest in manifests:
                files[f"{folder}/{Path(object_path(component.name, manifest)).name}"] = manifest
            source = {**git, "path": f"{base}/{folder}", "directory": {"recurse": False}}
            files[f"{APPS_DIR}/{component.name}-{phase}.yaml"] = _application(
                env, f"{component.name}-{phase}", wave, source, component.namespace)
        if component.is_release:
            if component.patches:
                folder = f"objects/{component.name}/release"
                _rendered_release(files, component, rendered, folder)
                source = {**git, "path": f"{base}/{folder}", "directory": {"recurse": False}}
            else:
                source = chart_source(env, component)
            if not component.patches and component.chart.repo is None and not env.charts.mirror:
                oci_repos.add(source["repoURL"])
            files[f"{APPS_DIR}/{component.name}.yaml"] = _application(
                env, component.name, 3 * index + 1, source, component.namespace)
    for url in sorted(oci_repos):
        secret = oci_repository(url)
        files[f"{APPS_DIR}/repository-{secret['metadata']['name']}.yaml"] = secret
    root_source = {**git, "path": f"{base}/{APPS_DIR}", "directory": {"recurse": False}}
    files[ROOT_APP] = _application(env, f"{env.name}-platform", 0, root_source, ARGOCD_NAMESPACE)
    files["README.md"] = _readme(env, base)
    _refuse_secret_data(files)
    return files


def _refuse_secret_data(files: dict[str, str | Manifest]) -> None:
    """The folder is committed to git: no Secret in it may carry data eksml did not allow. (What the
    charts render at sync time comes from the same values `eksml render` checks.)"""
    issues = []
    for path, manifest in files.items():
        if isinstance(manifest, dict):
            namespace = str((manifest.get("metadata") or {}).get("namespace", "default"))
            for field, keys in unallowed_keys(namespace, manifest).items():
                name = str((manifest.get("metadata") or {}).get("name", ""))
                issues.append(Issue(path, field, secret_message(namespace, name, keys)))
    if issues:
        raise ConfigError(issues)


def _readme(env: Environment, base: str) -> str:
    return (
        f"# {env.name}: the platform as Argo CD applications\n\n"
        f"Written by `eksml render {env.name} --gitops OUT`; commit this folder as `{base}/` of "
        f"{env.gitops.repo_url} ({env.gitops.revision}). Bootstrap once with "
        f"`kubectl apply -f {base}/{ROOT_APP}` after Argo CD is installed (`eksml deploy {env.name}`);\n"
        "from then on Argo CD syncs `apps/`: one Application per Helm release (chart, version and the exact\n"
        "values eksml computes; for one eksml patches after rendering, its patched manifests under\n"
        "`objects/<release>/release/`) and one per folder of eksml-owned objects, in sync waves of the install order.\n"
        "Do not edit by hand: change the environment file and render again.\n"
    )


def patched_releases(platform: KubernetesLayer, charts: Optional[ChartRenders]) -> dict[str, list[Manifest]]:
    """The checked objects of each release patched after rendering (what gitops commits for it)."""
    patched = [c.name for c in platform.releases if c.patches]
    if patched and charts is None:
        raise ValueError(f"{', '.join(patched)}: patched after rendering, so gitops needs the chart renders")
    return {name: [o.body for o in charts.release(name).objects] for name in patched} if charts else {}


def write_gitops(env: Environment, platform: KubernetesLayer, out: Path, *, force: bool = False,
                 charts: Optional[ChartRenders] = None) -> list[Path]:
    """Everything computed first; then the files eksml wrote before and no longer writes are removed,
    so a removed release disappears from Git (and Argo CD prunes it). Files eksml did not write (another
    team's Applications) are never removed: a folder holding any is refused unless --force."""
    from eksml.k8s.rendering.output_folder import check_output_folder
    from eksml.k8s.rendering.yaml_out import to_yaml

    files = {relative: content if isinstance(content, str) else to_yaml(content)
             for relative, content in gitops_files(env, platform, patched_releases(platform, charts)).items()}
    return list(check_output_folder(out, files, force=force).write(files))
