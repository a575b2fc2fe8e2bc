"""Whole-file rules for served models and access: pools, GPU slices, model sizes, the bucket models
come from, and what may be exposed on which tier."""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.components.serving import MODELS_PREFIX as SERVING_MODELS_PREFIX
from eksml.config.components import ui_installed
from eksml.config.gpu_slice import GpuSlice, model_size_gb, model_slice
from eksml.config.models import Environment, Tier
from eksml.config.models_serving import is_hub_source, is_registry_source
from eksml.config.rule_base import Finding, names, needs
from eksml.contract.names import ARTIFACTS_BUCKET

# The KServe IRSA role may read only this prefix of the artifacts bucket (its description's grant).
MODELS_PREFIX = f"{SERVING_MODELS_PREFIX}/"


def _source_findings(env: Environment, path: str, source: str) -> Iterator[Finding]:
    if not source.startswith("s3://"):
        return
    bucket = env.bucket_name(ARTIFACTS_BUCKET)
    if not source.startswith(f"s3://{bucket}/{MODELS_PREFIX}"):
        yield path, (f"'{source}' is outside the platform's model store; models are read from "
                     f"s3://{bucket}/{MODELS_PREFIX}… (the only prefix the serving role may read)")
    if ARTIFACTS_BUCKET not in env.storage.buckets:
        yield path, f"S3 models need the '{ARTIFACTS_BUCKET}' bucket in storage.buckets"


def _size_findings(path: str, size: float | None, gpu_slice: GpuSlice, size_field: str) -> Iterator[Finding]:
    if size is None:
        yield size_field, ("the model's size is unknown (not in the catalog's model sizes): set size_gb to the "
                           "GB its weights take on the GPU")
    elif size > gpu_slice.usable_gb:
        yield path, (f"the model needs ~{size:g} GB but gets {gpu_slice.describe()}, of which vLLM may use "
                     f"{gpu_slice.usable_gb:g} GB; choose a larger slice or a smaller model")


@needs("serving", "node_pools", "karpenter", "storage", "cluster")
def served_models_fit(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    for name, model in env.serving.models.items():
        base = f"serving.models.{name}"
        yield from _source_findings(env, f"{base}.source", model.source)
        if model.canary is not None:
            yield from _source_findings(env, f"{base}.canary.source", model.canary.source)
        gpu_slice = model_slice(env, catalog, model)
        if isinstance(gpu_slice, str):
            field = "mig_profile" if "mig_profile" in gpu_slice or "MIG layout" in gpu_slice else "pool"
            yield f"{base}.{field}", gpu_slice
            continue
        yield from _size_findings(f"{base}.source", model_size_gb(model), gpu_slice, f"{base}.size_gb")
        if model.canary is not None and model.size_gb is None:
            canary_size = model_size_gb(model, model.canary.source)
            yield from _size_findings(f"{base}.canary.source", canary_size, gpu_slice, f"{base}.size_gb")


def _sources(env: Environment) -> Iterator[tuple[str, str]]:
    for name, model in env.serving.models.items():
        yield f"serving.models.{name}.source", model.source
        if model.canary is not None:
            yield f"serving.models.{name}.canary.source", model.canary.source


@needs("serving", "addons", "storage")
def registry_sources_need_mlflow(env: Environment, _: Catalog) -> Iterator[Finding]:
    """A registry source is resolved through MLflow and read from the artifacts bucket."""
    for path, source in _sources(env):
        if not is_registry_source(source):
            continue
        if not env.addons.mlflow.enabled:
            yield path, f"'{source}' is a model of the MLflow registry, but this environment has no MLflow: enable addons.mlflow"
        if ARTIFACTS_BUCKET not in env.storage.buckets:
            yield path, f"registry models are read from the '{ARTIFACTS_BUCKET}' bucket: add it to storage.buckets"


@needs("serving", "name", "tier")
def prod_serves_no_public_hub(env: Environment, _: Catalog) -> Iterator[Finding]:
    """At prod a replica must not depend on a public hub being up (and unchanged) when it starts."""
    try:
        prod = env.resolved_tier is Tier.prod
    except ValueError:
        return
    if not prod:
        return
    for path, source in _sources(env):
        if is_hub_source(source):
            yield path, (f"'{source}' would be downloaded from the public Hugging Face Hub at every start; prod "
                         "serves from the registry (mlflow://NAME@ALIAS, models:/NAME/VERSION) or s3://…/models/")


@needs("serving", "addons")
def serving_needs_kserve(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.serving.models and not env.addons.kserve.enabled:
        yield "addons.kserve.enabled", "serving.models are served by KServe: enable kserve or remove the models"


@needs("access", "serving", "genai", "addons", "delivery")
def access_targets_exist(env: Environment, _: Catalog) -> Iterator[Finding]:
    access = env.access
    if access is None:
        return
    for i, model in enumerate(access.models):
        if model not in env.serving.models:
            yield f"access.models[{i}]", f"no served model named '{model}'; serving.models: {names(env.serving.models)}"
    for i, target in enumerate(access.expose):
        if not ui_installed(env, target):
            yield f"access.expose[{i}]", f"'{target}' is not installed in this environment, so it cannot be exposed"
    if len(set(access.expose)) != len(access.expose):
        yield "access.expose", "each UI may be listed once"


@needs("access", "name", "tier")
def access_scheme_is_safe(env: Environment, _: Catalog) -> Iterator[Finding]:
    access = env.access
    if access is None:
        return
    if access.scheme == "internet-facing":
        if not access.allowed_cidrs:
            yield "access.allowed_cidrs", ("an internet-facing load balancer needs the CIDR blocks allowed to reach it "
                                           "(0.0.0.0/0 only if you mean the whole internet)")
        if access.certificate_arn is None:
            yield "access.certificate_arn", ("an internet-facing load balancer serves HTTPS only: set the ACM "
                                             "certificate ARN for the domain")
        try:
            prod = env.resolved_tier is Tier.prod
        except ValueError:
            prod = False
        if prod and "0.0.0.0/0" in access.allowed_cidrs:
            yield "access.allowed_cidrs", "prod may not expose its UIs to the whole internet (0.0.0.0/0)"
    elif access.allowed_cidrs:
        yield "access.allowed_cidrs", "allowed_cidrs applies to internet-facing load balancers only; remove it or set scheme: internet-facing"


@needs("delivery", "gitops", "addons")
def gitops_is_complete(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.delivery == "gitops":
        if env.gitops is None:
            yield "gitops", ("delivery: gitops needs gitops: {repo_url: ...}, the Git repository the rendered "
                             "app-of-apps is committed to")
        if not env.addons.argo_cd.enabled:
            yield "addons.argo_cd.enabled", "delivery: gitops is run by Argo CD: enable argo_cd or use delivery: helm"
    elif env.gitops is not None:
        yield "gitops", "gitops settings apply only with delivery: gitops; set it or remove the section"


RULES = (gitops_is_complete, served_models_fit, registry_sources_need_mlflow, prod_serves_no_public_hub,
         serving_needs_kserve, access_targets_exist, access_scheme_is_safe)
