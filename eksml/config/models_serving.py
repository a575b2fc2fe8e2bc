"""Typed `serving` and `access` sections of the environment file: the models eksml serves on KServe
and which UIs and endpoints the shared ALB exposes.

Kept apart from models.py (which imports them) so that module stays one screen per concern; shape
rules only here — pools, slices, sizes and tier rules need the whole file (rules_serving.py).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from eksml.config.models_operations import Autoscaling
from eksml.components import uis
from eksml.config.value_checks import model_id

_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
HF_PREFIX = "hf://"
MLFLOW_PREFIX = "mlflow://"  # mlflow://NAME@ALIAS
MODELS_URI_PREFIX = "models:/"  # MLflow's own model URI: models:/NAME/VERSION or models:/NAME@ALIAS
# MLflow's rules for a registered model alias (mlflow/utils/validation.py, _validate_model_alias_name):
# alphanumerics, '_' and '-' only, at most 255 characters, not 'latest' (any case), not 'v<digits>'.
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_REGISTERED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def is_registry_source(value: str) -> bool:
    return value.startswith((MLFLOW_PREFIX, MODELS_URI_PREFIX))


def is_hub_source(value: str) -> bool:
    """A Hugging Face id: downloaded from the public hub when a replica starts."""
    return not value.startswith("s3://") and not is_registry_source(value)


def mlflow_alias(value: str) -> str:
    if not _ALIAS.match(value):
        raise ValueError(f"'{value}' is not an MLflow alias: 1 to 255 letters, digits, '_' or '-'")
    if value.lower() == "latest":
        raise ValueError("the alias 'latest' is reserved by MLflow (any case)")
    if _VERSION_ALIAS.match(value):
        raise ValueError(f"the alias '{value}' is reserved by MLflow for version numbers (v1, v2, ...)")
    return value


def registry_reference(value: str) -> tuple[str, str, str]:
    """(registered model name, 'alias' or 'version', the alias or version) of a registry source."""
    if value.startswith(MLFLOW_PREFIX):
        name, sep, ref = value.removeprefix(MLFLOW_PREFIX).partition("@")
        kind = "alias"
        if not sep:
            raise ValueError(f"'{value}' names no alias: use mlflow://NAME@ALIAS")
    else:
        rest = value.removeprefix(MODELS_URI_PREFIX)
        if "@" in rest:
            name, _, ref = rest.partition("@")
            kind = "alias"
        else:
            name, _, ref = rest.partition("/")
            kind = "version"
            if not ref.isdigit() or int(ref) < 1:
                raise ValueError(f"'{value}' names no version: use models:/NAME/VERSION (a number from 1)")
    if not _REGISTERED_NAME.match(name):
        raise ValueError(f"'{name}' is not a registered model name eksml serves: letters, digits, '.', '_' "
                         "and '-', starting with a letter or digit, at most 128 characters")
    if kind == "alias":
        mlflow_alias(ref)
    return name, kind, ref


def model_source(value: str) -> str:
    """`s3://bucket/key`, a Hugging Face model id (`org/name`, optionally written `hf://org/name`), or an
    MLflow registry reference (`mlflow://NAME@ALIAS`, `models:/NAME/VERSION`, `models:/NAME@ALIAS`)."""
    if is_registry_source(value):
        registry_reference(value)
        return value
    if value.startswith("s3://"):
        if not _S3_URI.match(value):
            raise ValueError(f"'{value}' is not an S3 URI: use s3://BUCKET/models/PATH")
        return value
    plain = value.removeprefix(HF_PREFIX)
    try:
        model_id(plain)
    except ValueError as exc:
        raise ValueError("source must be s3://BUCKET/models/PATH, mlflow://NAME@ALIAS, models:/NAME/VERSION "
                         f"or a Hugging Face model id: {exc}") from None
    return value


def _model_name(value: str) -> str:
    # The InferenceService name (and `<name>-canary`, `<name>-predictor`) must stay a DNS label.
    if len(value) > 40 or not _DNS_LABEL.match(value):
        raise ValueError(f"'{value}' is not a valid model name: lowercase letters, digits and '-', at most 40 characters")
    return value


def _domain(value: str) -> str:
    if len(value) > 200 or not _DOMAIN.match(value):
        raise ValueError(f"'{value}' is not a DNS domain (e.g. ml.example.com)")
    return value


def _acm_arn(value: str) -> str:
    if not _ACM_ARN.match(value):
        raise ValueError(f"'{value}' is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/UUID)")
    return value


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a CIDR block ({exc})") from None
    return value


ModelSource = Annotated[str, AfterValidator(model_source)]
ModelName = Annotated[str, AfterValidator(_model_name)]
Domain = Annotated[str, AfterValidator(_domain)]
AcmArn = Annotated[str, AfterValidator(_acm_arn)]
Cidr = Annotated[str, AfterValidator(_cidr)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Canary(_Strict):
    """A second version served beside the first; the ALB sends it this share of the traffic."""

    source: ModelSource
    traffic_percent: StrictInt = Field(ge=1, le=99)


class ServedModel(_Strict):
    source: ModelSource
    # vllm: KServe's kserve-vllmserver runtime; huggingface: kserve-huggingfaceserver (vLLM backend
    # for generative models, transformers for the rest). Both come from the kserve-runtime-configs chart.
    runtime: Literal["vllm", "huggingface"] = "vllm"
    pool: str
    mig_profile: Optional[str] = None  # required on a mixed-strategy MIG pool
    replicas: StrictInt = Field(default=1, ge=1, le=100)
    size_gb: Optional[float] = Field(default=None, gt=0, le=2000)  # else looked up in the catalog
    max_model_len: Optional[StrictInt] = Field(default=None, ge=128, le=1_048_576)
    canary: Optional[Canary] = None
    autoscaling: Optional[Autoscaling] = None  # else a fixed `replicas`


class Serving(_Strict):
    models: dict[ModelName, ServedModel] = Field(default_factory=dict)


# The UIs the components describe (eksml/components), each by its name.
AccessTarget = Literal[tuple(uis())]  # type: ignore[valid-type]


class Access(_Strict):
    """One shared ALB (an ingress group) in front of the chosen UIs; internal unless said otherwise."""

    scheme: Literal["internal", "internet-facing"] = "internal"
    domain: Optional[Domain] = None  # each UI gets <ui>.<domain>, each model <model>.<domain>
    expose: list[AccessTarget] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)  # names under serving.models
    allowed_cidrs: list[Cidr] = Field(default_factory=list)
    certificate_arn: Optional[AcmArn] = None

    @model_validator(mode="after")
    def _needs_domain(self) -> "Access":
        if (self.expose or self.models) and self.domain is None:
            raise ValueError("exposing UIs or models needs domain: every one gets a host name under it")
        return self
