"""Terraform without the network: our own CLI config pointing the AWS provider at a local mirror.

The machine's TF_CLI_CONFIG_FILE may point anywhere (here: at a file that does not exist), so every
terraform we run gets a config file we wrote, an explicit plugin cache, and automation settings.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from eksml.errors import StageError

PROVIDER_HOSTNAME = "registry.terraform.io"
PROVIDER_NAMESPACE = "hashicorp"
PROVIDER_TYPE = "aws"
PROVIDER_ADDRESS = f"{PROVIDER_HOSTNAME}/{PROVIDER_NAMESPACE}/{PROVIDER_TYPE}"
PROVIDER_VERSION = "5.100.0"  # the version cdktf-cdktf-provider-aws 20.1.0 was generated from
MINIMUM_TERRAFORM = (1, 10)  # S3 native locking (use_lockfile) arrived in 1.10

MIRROR_ENV = "EKSML_PROVIDER_MIRROR"
NETWORK = "network"  # EKSML_PROVIDER_MIRROR=network: install from the registry as usual


def default_mirror_locations() -> tuple[Path, ...]:
    """Where terraform itself looks for implied local mirrors, plus the image's /opt/tf-plugins."""
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return (
        Path("/opt/tf-plugins"),
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    )


def terraform_platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def mirror_has_provider(mirror: Path, version: str = PROVIDER_VERSION) -> bool:
    """True when `mirror` holds hashicorp/aws `version` for this platform, unpacked or packed layout."""
    base = mirror / PROVIDER_HOSTNAME / PROVIDER_NAMESPACE / PROVIDER_TYPE
    unpacked = base / version / terraform_platform()
    if unpacked.is_dir() and any(
        path.name.startswith(f"terraform-provider-{PROVIDER_TYPE}") and os.access(path, os.X_OK)
        for path in unpacked.iterdir()
    ):
        return True
    return (base / f"terraform-provider-{PROVIDER_TYPE}_{version}_{terraform_platform()}.zip").is_file()


def find_provider_mirror(environ: Mapping[str, str] | None = None) -> Path | None:
    """The mirror to install hashicorp/aws from; None means the public registry (EKSML_PROVIDER_MIRROR=network)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(MIRROR_ENV, "").strip()
    if chosen == NETWORK:
        return None
    candidates = (Path(chosen).expanduser(),) if chosen else default_mirror_locations()
    for candidate in candidates:
        if mirror_has_provider(candidate):
            return candidate
    where = f"{MIRROR_ENV}={chosen}" if chosen else "any of " + ", ".join(str(c) for c in candidates)
    raise StageError(
        "init",
        f"the Terraform provider {PROVIDER_ADDRESS} {PROVIDER_VERSION} ({terraform_platform()}) "
        f"was not found in {where}",
        hint=(
            f"put it in a filesystem mirror (e.g. `terraform providers mirror -platform={terraform_platform()} DIR` "
            f"on a machine with network, then copy DIR) and set {MIRROR_ENV}=DIR; "
            f"or set {MIRROR_ENV}={NETWORK} to download it from the registry"
        ),
    )


def render_cli_config(mirror: Path | None, plugin_cache_dir: Path) -> str:
    """HCL of a CLI config: the AWS provider only from `mirror`, everything else as usual."""
    lines = []
    if mirror is not None:
        include = json.dumps([PROVIDER_ADDRESS])
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path    = {json.dumps(str(mirror))}",
            f"    include = {include}",
            "  }",
            "  direct {",
            f"    exclude = {include}",
            "  }",
            "}",
        ]
    lines.append(f"plugin_cache_dir = {json.dumps(str(plugin_cache_dir))}")
    # Without this, every init of a stack with no lock file yet re-installs the provider into the
    # cache: it unlinks the cached entry and links it again, and a terraform of another stack that
    # starts its provider in that moment fails with "provider binary not found". The cost is only
    # that a new lock file records the hash of this platform's package, which is all a filesystem
    # mirror yields anyway.
    lines.append("plugin_cache_may_break_dependency_lock_file = true")
    return "\n".join(lines) + "\n"


def write_cli_config(path: Path, mirror: Path | None, plugin_cache_dir: Path) -> Path:
    plugin_cache_dir.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_cli_config(mirror, plugin_cache_dir)
    if not path.is_file() or path.read_text() != text:
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
        partial.write_text(text)
        os.replace(partial, path)
    return path


# Terraform and the AWS provider are Go programs that spend a fifth of their CPU collecting garbage while
# they decode the provider's 1,500 schemas, at every start (three per stack and plan). At 400 a plan-only
# deploy of local takes 21% less CPU for ~160 MiB more per process; a GOGC the user set is kept.
TERRAFORM_GOGC = "400"


def go_gc_percent(environ: Mapping[str, str]) -> str:
    return environ.get("GOGC") or TERRAFORM_GOGC


@dataclass(frozen=True)
class TerraformCli:
    """A terraform binary plus the environment every run of it gets."""

    binary: str
    cli_config_file: Path
    version: tuple[int, int, int]

    def environment(self, data_dir: Path, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The process environment; a None value in `extra` removes that variable."""
        env = dict(os.environ)
        env.update(
            TF_CLI_CONFIG_FILE=str(self.cli_config_file),
            TF_DATA_DIR=str(data_dir),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",  # no version check call home: offline machines stay quiet
            GOGC=go_gc_percent(os.environ),
        )
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env


def terraform_version(binary: str) -> tuple[int, int, int]:
    try:
        result = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise StageError("init", f"terraform binary '{binary}' not found", hint=_INSTALL_HINT) from None
    try:
        version = json.loads(result.stdout)["terraform_version"]
    except (ValueError, KeyError):
        raise StageError("init", f"'{binary} version -json' failed: {result.stderr.strip()[-500:]}") from None
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise StageError("init", f"cannot read terraform version '{version}'")
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


_INSTALL_HINT = "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) and put it on PATH"


def prepare_terraform(config_dir: Path, *, environ: Mapping[str, str] | None = None) -> TerraformCli:
    """Find terraform and the provider mirror, write our CLI config under `config_dir`."""
    binary = shutil.which("terraform", path=(environ or os.environ).get("PATH"))
    if binary is None:
        raise StageError("init", "terraform is not on PATH", hint=_INSTALL_HINT)
    version = terraform_version(binary)
    if version[:2] < MINIMUM_TERRAFORM:
        raise StageError(
            "init",
            f"terraform {'.'.join(map(str, version))} is too old: state locking in S3 needs >= 1.10",
            hint=_INSTALL_HINT,
        )
    mirror = find_provider_mirror(environ)
    config = write_cli_config(config_dir / "terraform.rc", mirror, config_dir / "plugin-cache")
    return TerraformCli(binary=binary, cli_config_file=config, version=version)
