"""Environment -> Terraform JSON, one directory per stack, for real AWS or the local emulator.

Importing this module is cheap; the CDKTF AWS binding (10-15 s to load) is imported on the first
`build`/`synthesize` call and then stays loaded for the rest of the process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eksml.config.models import Environment
from eksml.errors import StageError
from eksml.paths import work_dir

if TYPE_CHECKING:  # pragma: no cover
    from cdktf import App, TerraformStack

# The stacks, in an order that respects their dependencies. Split by blast radius (replacing the
# cluster never touches data) and so that slow resources start early: data and karpenter are
# applied while the cluster is (network -> cluster, data; cluster -> karpenter; all -> platform).
STACK_NAMES: tuple[str, ...] = ("network", "cluster", "data", "karpenter", "platform")

# Resource types left out when the target is the emulator: moto 5.2.5 answers 404 for them.
NOT_EMULATED: tuple[str, ...] = ("aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_addon")

# Written next to a synthesis: the digest of what it was made from (see synthesize_if_changed).
INPUTS_FILE = "inputs.sha256"
_SOURCE_SUFFIXES = {".py", ".json", ".yaml"}

# What stands in, on the emulator, for values it does not produce (printed by the deploy summary).
EMULATOR_STAND_INS: dict[str, str] = {
    "cluster security group": "moto's EKS returns none; an empty VPC security group stands in for it",
}

# Attributes the emulator does not store or echoes back differently, ignored on the emulator only
# so that a second apply plans no changes (real AWS manages and compares all of them).
EMULATOR_IGNORED_CHANGES: dict[str, tuple[str, ...]] = {
    "aws_eks_cluster": ("access_config",),  # not returned by moto's DescribeCluster
    "aws_eks_node_group": ("remote_access", "update_config"),  # moto invents the one, drops the other
    "aws_launch_template": ("tag_specifications",),  # moto adds a launch-template tag specification
    "aws_db_instance": (  # Performance Insights settings are not kept by moto
        "performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period",
    ),
    "aws_db_parameter_group": ("parameter",),  # moto does not return custom parameters
    "aws_vpc_security_group_ingress_rule": ("description",),  # dropped for group-to-group rules by moto
}

# Provider endpoint names (the provider's primary name of each service) sent to the emulator.
EMULATED_SERVICES: tuple[str, ...] = (
    "ec2", "eks", "iam", "s3", "rds", "efs", "sqs", "events", "kms", "secretsmanager", "sts", "ssm", "logs",
)
DEFAULT_EMULATOR_ENDPOINT = "http://127.0.0.1:4566"
# The emulator accepts any credentials; fixed dummy ones keep real ones from ever being sent to it.
EMULATOR_ACCESS_KEY = "testing"
EMULATOR_SECRET_KEY = "testing"


@dataclass(frozen=True)
class AwsTarget:
    """Where AWS API calls go: None is real AWS; a URL is the moto emulator (e.g. http://127.0.0.1:PORT)."""

    endpoint_url: str | None = None

    @property
    def emulated(self) -> bool:
        return self.endpoint_url is not None


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    directory: Path
    depends_on: tuple[str, ...]

    @property
    def config_file(self) -> Path:
        return self.directory / "cdk.tf.json"


def default_outdir(env_name: str, target: AwsTarget = AwsTarget()) -> Path:
    """.eksml/<env>/cdktf.out, or .eksml/<env>/emulator/cdktf.out: the two never share Terraform
    working directories, whose cached backend settings differ."""
    base = work_dir(env_name)
    return (base / "emulator" if target.emulated else base) / "cdktf.out"


@dataclass
class BuiltApp:
    """The construct tree before synthesis; tests inspect `stacks` with cdktf's Testing API."""

    app: "App"
    stacks: dict[str, "TerraformStack"]
    outdir: Path
    target: AwsTarget

    def synth(self) -> list[SynthesizedStack]:
        try:
            self.app.synth()
        except Exception as exc:  # jsii surfaces construct errors as RuntimeError with a JS stack
            raise StageError("synth", _first_line(exc)) from exc
        return _read_manifest(self.outdir)


def _read_manifest(outdir: Path) -> list[SynthesizedStack]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return [
        SynthesizedStack(
            name=name,
            directory=(outdir / manifest["stacks"][name]["workingDirectory"]).resolve(),
            depends_on=tuple(manifest["stacks"][name].get("dependencies", ())),
        )
        for name in STACK_NAMES
    ]


def build(env: Environment, target: AwsTarget = AwsTarget(), outdir: Path | None = None) -> BuiltApp:
    """Build every stack of `env` for `target`; only creates the output directory."""
    if env.emulator and not target.emulated:
        raise StageError(
            "synth",
            f"environment '{env.name}' runs only against the AWS emulator (emulator: true)",
            hint="give an emulator endpoint (eksml synth --emulator)",
        )
    import os

    from eksml.toolchain import prefer_supported_node

    prefer_supported_node()
    # cdktf's bundled JS uses util.isArray; Node's deprecation notice is noise for our users.
    os.environ.setdefault("NODE_OPTIONS", "--no-deprecation")
    from cdktf import App

    from stacks.app import build_stacks

    directory = Path(outdir) if outdir is not None else default_outdir(env.name, target)
    try:
        directory.mkdir(parents=True, exist_ok=True)  # cdktf's App creates only the last level
        app = App(outdir=str(directory))
    except (OSError, RuntimeError) as exc:
        raise StageError("synth", f"cannot write to {directory}: {_first_line(exc)}") from exc
    stacks = build_stacks(app, env, target)
    if target.emulated:
        for stack in stacks.values():
            _leave_out(stack, NOT_EMULATED)
            _ignore_changes(stack, EMULATOR_IGNORED_CHANGES)
    return BuiltApp(app=app, stacks=stacks, outdir=directory, target=target)


def synthesize(env: Environment, outdir: Path, target: AwsTarget = AwsTarget()) -> list[SynthesizedStack]:
    """Write `<outdir>/stacks/<name>/cdk.tf.json` for every stack; returned in dependency order."""
    return build(env, target, outdir).synth()


def synthesize_if_changed(
    env: Environment, outdir: Path, target: AwsTarget = AwsTarget()
) -> tuple[list[SynthesizedStack], bool]:
    """`synthesize`, unless `outdir` holds a synthesis of the same inputs; (stacks, reused).

    The inputs are the validated environment, the target and the toolkit's own files: what the
    JSON is made from. Reusing it spares a deploy that changes nothing the 10 s of loading the
    AWS binding.
    """
    digest = _inputs_digest(env, target)
    marker = outdir / INPUTS_FILE
    try:
        if marker.read_text() == digest:
            stacks = _read_manifest(outdir)
            if all(stack.config_file.is_file() for stack in stacks):
                return stacks, True
    except (OSError, ValueError, KeyError):
        pass  # no or a partial earlier synthesis: make a new one
    marker.unlink(missing_ok=True)
    stacks = synthesize(env, outdir, target)
    marker.write_text(digest)
    return stacks, False


def _inputs_digest(env: Environment, target: AwsTarget) -> str:
    from importlib import metadata
    from importlib.util import find_spec

    digest = hashlib.sha256()
    digest.update(env.model_dump_json().encode())
    digest.update(f"{target.endpoint_url}".encode())
    for distribution in ("cdktf", "cdktf-cdktf-provider-aws", "constructs"):
        digest.update(f"{distribution}=={metadata.version(distribution)}".encode())
    for package in ("eksml", "stacks", "modules"):
        for location in find_spec(package).submodule_search_locations or ():
            root = Path(location)
            for path in sorted(p for p in root.rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file()):
                digest.update(f"{package}/{path.relative_to(root)}".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _leave_out(stack: "TerraformStack", resource_types: tuple[str, ...]) -> None:
    from cdktf import TerraformResource

    for construct in stack.node.find_all():
        if isinstance(construct, TerraformResource) and construct.terraform_resource_type in resource_types:
            construct.node.scope.node.try_remove_child(construct.node.id)


def _ignore_changes(stack: "TerraformStack", ignored: dict[str, tuple[str, ...]]) -> None:
    from cdktf import TerraformResource

    for construct in stack.node.find_all():
        if isinstance(construct, TerraformResource) and construct.terraform_resource_type in ignored:
            # cdktf appends an overridden list to the one the construct set (e.g. desired_size).
            existing = set(construct.lifecycle.ignore_changes or []) if construct.lifecycle else set()
            extra = [name for name in ignored[construct.terraform_resource_type] if name not in existing]
            construct.add_override("lifecycle.ignore_changes", extra)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
