"""Everything a component needs to compute its values: the environment, the AWS outputs, the catalog."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from eksml.catalog import Catalog, load_catalog
from eksml.config.models import Environment
from eksml.errors import StageError
from eksml.k8s.model.records import PoolTarget
from eksml.k8s.model.pools import pool_targets
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.tracing import OTEL_COLLECTOR
from eksml.components.spec import ComponentSpec
from eksml.config.components import component_enabled
from eksml.contract.names import ebs_key_alias
from eksml.contract.outputs import AwsOutputs
from eksml.paths import HELM_VALUES_DIR

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class ServiceAccountRef:
    namespace: str
    name: str
    role_arn: str

    @property
    def annotations(self) -> dict[str, str]:
        return {IRSA_ANNOTATION: self.role_arn}


@dataclass(frozen=True)
class RenderContext:
    env: Environment
    outputs: AwsOutputs
    catalog: Catalog
    values_dir: Path = HELM_VALUES_DIR
    # Namespaces of the enabled components; filled in by the platform before components render.
    platform_namespaces: tuple[str, ...] = ()
    platform_components: tuple[str, ...] = ()  # names of the enabled components, likewise

    @classmethod
    def build(cls, env: Environment, outputs: AwsOutputs, values_dir: Path | None = None) -> "RenderContext":
        return cls(env=env, outputs=outputs, catalog=load_catalog(), values_dir=values_dir or HELM_VALUES_DIR)

    def irsa(self, component: ComponentSpec) -> ServiceAccountRef:
        """The service account the AWS layer trusts for the component's identity: charts must use exactly this name."""
        identity = component.identity
        if identity is None:
            raise TypeError(f"component {component.name} describes no AWS identity")
        namespace, name, key = component.namespace, identity.service_account, identity.key
        arn = self.outputs.irsa_role_arns.get(key)
        if not arn:
            raise StageError("render", f"the AWS outputs have no IRSA role for '{key}' ({namespace}/{name})",
                             hint="re-run the AWS apply; its irsa_role_arns output must cover every IRSA service account")
        return ServiceAccountRef(namespace, name, arn)

    def bucket(self, item: str) -> str:
        name = self.outputs.bucket_names.get(item)
        if not name:
            raise StageError("render", f"the AWS outputs have no '{item}' bucket",
                             hint="re-run the AWS apply; its bucket_names output must include it")
        return name

    @property
    def ebs_key_arn(self) -> str:
        """The AWS layer's EBS key (by its alias), which encrypts node root volumes and the EBS StorageClasses' volumes."""
        return f"arn:aws:kms:{self.env.region}:{self.outputs.account_id}:alias/{ebs_key_alias(self.env.cluster.name)}"

    @property
    def monitoring_enabled(self) -> bool:
        return component_enabled(self.env, KUBE_PROMETHEUS_STACK)

    @property
    def tracing_enabled(self) -> bool:
        return component_enabled(self.env, OTEL_COLLECTOR)

    @functools.cached_property
    def pools(self) -> tuple[PoolTarget, ...]:
        return pool_targets(self.env, self.catalog)
