"""Environment -> Terraform JSON, one directory per stack, for real AWS or the local emulator.

Importing this module is cheap; the CDKTF AWS binding (10-15 s to load) is imported on the first
`build`/`synthesize` call and then stays loaded for the rest of the process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eksml.config.models import Environment
from eksml.contract.names import STACK_NAMES, StackName
from eksml.emulator.deviations import EMULATOR_IGNORED_CHANGES, NOT_EMULATED
from eksml.emulator.target import AwsTarget
from eksml.errors import StageError, first_line
from eksml.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover
    from cdktf import App, TerraformStack

# Written next to a synthesis: the digest of what it was made from (see synthesize_if_changed).
INPUTS_FILE = "inputs.sha256"
_SOURCE_SUFFIXES = {".py", ".json", ".yaml"}
# jsii talks to one Node process over a synchronous pipe: synthesis must not run in two threads at once.
_JSII_LOCK = threading.Lock()


@dataclass(frozen=True)
class SynthesizedStack:
    name: StackName
    directory: Path
    depends_on: tuple[StackName, ...]

    @property
    def config_file(self) -> Path:
        return self.directory / "cdk.tf.json"


def default_outdir(env_name: str, target: AwsTarget = AwsTarget()) -> Path:
    return Workspace.of(env_name).synth_dir(target.emulated)


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
            raise StageError("synth", first_line(exc)) from exc
        return _read_manifest(self.outdir)


def _read_manifest(outdir: Path) -> list[SynthesizedStack]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return [
        SynthesizedStack(
            name=name,
            directory=(outdir / manifest["stacks"][name]["workingDirectory"]).resolve(),
            depends_on=tuple(StackName(dep) for dep in manifest["stacks"][name].get("dependencies", ())),
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

    from eksml.provider_binding import register_provider_package

    register_provider_package()  # the forty resource modules the stacks use, not all 2,100
    from stacks.app import build_stacks

    directory = Path(outdir) if outdir is not None else default_outdir(env.name, target)
    try:
        directory.mkdir(parents=True, exist_ok=True)  # cdktf's App creates only the last level
        app = App(outdir=str(directory))
    except (OSError, RuntimeError) as exc:
        raise StageError("synth", f"cannot write to {directory}: {first_line(exc)}") from exc
    stacks = build_stacks(app, env, target)
    if target.emulated:
        for stack in stacks.values():
            _leave_out(stack, NOT_EMULATED)
            _ignore_changes(stack, EMULATOR_IGNORED_CHANGES)
    return BuiltApp(app=app, stacks=stacks, outdir=directory, target=target)


def synthesize(env: Environment, outdir: Path, target: AwsTarget = AwsTarget()) -> list[SynthesizedStack]:
    """Write `<outdir>/stacks/<name>/cdk.tf.json` for every stack; returned in dependency order."""
    with _JSII_LOCK:
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
