"""What a platform component is, as data: the one description every layer derives its lists from.

The config model (`addons.<key>`), the namespaces, the IRSA roles of the platform stack, the UIs
(endpoints, port-forward, access rules) and the chart pins (`outdated`, `images`) are all read from
these descriptions, so adding a component is one description, its values file and, only when the
chart needs computed values, a class in eksml/k8s/model/components.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union


@dataclass(frozen=True)
class AddonOption:
    """A setting under `addons.<key>` beside version and enabled, with the values it may take."""

    name: str
    allowed: tuple[str, ...]
    default: str
    aliases: Mapping[str, str] = field(default_factory=dict)  # an older spelling -> the current one


@dataclass(frozen=True)
class AddonSwitch:
    """`addons.<key>` of the environment file: the chart version pin and the on/off switch."""

    key: str
    version: Optional[str] = None  # the default pin; None: every environment file must pin it
    enabled: bool = True
    options: tuple[AddonOption, ...] = ()


@dataclass(frozen=True)
class Gate:
    """The component runs only while this environment field holds `equals` (True: any non-empty value)."""

    path: str
    equals: Any = True


@dataclass(frozen=True)
class AnyGate:
    """Open while any of these gates is (a component several features need)."""

    options: tuple[Gate, ...]


UNPUBLISHED = ""  # a Chart.repo: no publisher serves the chart; it comes from the chart mirror only


@dataclass(frozen=True)
class Chart:
    name: str
    repo: Optional[str] = None  # None: `name` is an oci:// reference


@dataclass(frozen=True)
class ArtifactPrefix:
    """Objects under one prefix of the artifacts bucket (and its KMS key)."""

    sid: str
    prefix: str
    write: bool


@dataclass(frozen=True)
class DatabaseSecretRead:
    """The RDS-managed master secret of the MLflow database, read-only."""

    sid: str = "ReadMlflowDbSecret"


@dataclass(frozen=True)
class ControllerPolicy:
    """The component's own published controller policy (Karpenter's, the load balancer controller's),
    scoped to the cluster; modules/irsa_policies.py holds its statements under the component's name."""


@dataclass(frozen=True)
class PodLogsWrite:
    """Streams in the cluster's pod log group (contract.names.pod_log_group_name), and nothing else:
    no log group is created by the writer."""

    sid: str = "WritePodLogs"


@dataclass(frozen=True)
class BackupStore:
    """The backup bucket (objects and listing) and EBS snapshots of the cluster's volumes: Velero's
    object store and volume snapshotter (velero-plugin-for-aws)."""

    sid: str = "Backups"


@dataclass(frozen=True)
class TracesWrite:
    """Trace segments to AWS X-Ray (its Put actions take no resource: the grant is to the account's X-Ray)."""

    sid: str = "WriteTraces"


@dataclass(frozen=True)
class DatasetsRead:
    """Objects of the datasets bucket, read-only (and listing): where pipelines ingest raw data from."""

    sid: str = "ReadDatasets"


@dataclass(frozen=True)
class VolumeKeyUse:
    """The environment's EBS key, through EC2 only: for a component that creates encrypted volumes
    (Karpenter's nodes' root volumes)."""

    sid: str = "VolumeKey"


Grant = Union[ArtifactPrefix, DatabaseSecretRead, ControllerPolicy, PodLogsWrite, BackupStore, TracesWrite,
              DatasetsRead, VolumeKeyUse]


@dataclass(frozen=True)
class Identity:
    """An IAM role trusted by one service account of the component's namespace (IRSA)."""

    key: str  # the role-name suffix and the key of the irsa_role_arns output
    service_account: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Ui:
    """A web UI a chart serves: the Service as the chart names it, reached by ALB host or port-forward."""

    name: str
    service: str
    port: int
    health_path: str
    local_port: int  # port-forward's default on 127.0.0.1
    target_port: Union[int, str]  # the Service's targetPort: the pod port the ALB sends to (ip targets)


# Destinations outside the cluster's pods (see Egress.to).
INTERNET = "internet"  # public addresses on 443: AWS APIs without an interface endpoint, model hubs
VPC = "vpc"  # addresses in the VPC that are no pod: RDS, interface endpoints, the EKS API server's ENIs
EVERY_POD = "every-pod"  # every pod of every namespace (Prometheus scraping)


@dataclass(frozen=True)
class Egress:
    """Traffic the component's pods start beyond DNS, their own namespace and the Kubernetes API.
    A component with an AWS identity also reaches INTERNET on 443 (STS and its grants' APIs)."""

    to: Union[str, "ComponentSpec"]  # INTERNET, VPC, EVERY_POD, or another component's pods
    port: Optional[int]  # None: any port (the destination's ingress rules decide)
    why: str


@dataclass(frozen=True)
class Network:
    """What the component's pods may reach, and the ports the API server calls on them (admission
    webhooks, aggregated APIs) from the control plane's addresses in the VPC."""

    egress: tuple[Egress, ...] = ()
    api_server_ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class ComponentSpec:
    name: str  # the Helm release name; helm_values/<name>.yaml holds its values
    namespace: str = ""
    chart: Optional[Chart] = None
    addon: Optional[AddonSwitch] = None  # shared by components installed and pinned together
    gates: tuple[Union[Gate, AnyGate], ...] = ()
    depends_on: tuple["ComponentSpec", ...] = ()
    provides_api_groups: tuple[str, ...] = ()
    identity: Optional[Identity] = None
    uis: tuple[Ui, ...] = ()
    network: Network = Network()
    timeout: str = "10m"

    @property
    def dependency_names(self) -> tuple[str, ...]:
        return tuple(dep.name for dep in self.depends_on)
