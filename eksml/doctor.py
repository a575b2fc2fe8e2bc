"""`eksml doctor`: is this machine ready to synth, plan and deploy? Each finding comes with its fix.

Statuses: ok; missing (a required piece is absent: deploys will fail, exit 1); warn (optional or only
needed for real AWS / real clusters). Network-free except the optional AWS calls, which have short
timeouts, so the doctor answers in seconds even offline.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from eksml.config import Environment
from eksml.errors import StageError
from eksml.kube_tools import INSTALL_HINT, MINIMUM_HELM, find_tool
from eksml.terraform.setup import MINIMUM_TERRAFORM, MIRROR_ENV, NETWORK, PROVIDER_ADDRESS, PROVIDER_VERSION, find_provider_mirror
from eksml.toolchain import PROJECT_NODE

Status = Literal["ok", "missing", "warn"]
TOOL_TIMEOUT_S = 10
AWS_TIMEOUT_S = 4
MINIMUM_NODE = 22  # jsii (under cdktf) has dropped support for older Node releases

_TERRAFORM_INSTALL = "install Terraform >= {v} (https://developer.hashicorp.com/terraform/install) and put it on PATH"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None  # always set when status is not ok


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != "missing" for check in self.checks)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def run_doctor(env: Environment | None = None, environ: Mapping[str, str] | None = None) -> Report:
    environ = dict(os.environ if environ is None else environ)
    checks = [
        check_terraform(environ),
        check_provider_mirror(environ),
        check_node(environ),
        check_moto(),
        check_helm(environ),
        check_kubectl(environ),
        check_aws_region(environ, env),
    ]
    identity = _caller_identity(environ)
    checks.append(check_aws_credentials(identity, env))
    if env is not None:
        checks.append(check_state_bucket(env, identity, environ))
    return Report(tuple(checks))


# -- tools ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ran:
    output: str
    error: str | None  # why the tool could not tell its version


def _run(command: list[str], environ: Mapping[str, str]) -> _Ran:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S,
            env={**environ, "CHECKPOINT_DISABLE": "1"},  # terraform must not call home
        )
    except subprocess.TimeoutExpired:
        return _Ran("", f"`{' '.join(command)}` did not answer within {TOOL_TIMEOUT_S}s")
    except OSError as exc:
        return _Ran("", f"`{command[0]}` cannot run: {exc.strerror or exc}")
    if result.returncode != 0:
        return _Ran(result.stdout, f"`{' '.join(command)}` exited {result.returncode}: {result.stderr.strip()[-300:]}")
    return _Ran(result.stdout, None)


def _version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def check_terraform(environ: Mapping[str, str]) -> Check:
    """eksml runs the binary named `terraform`; OpenTofu works when it answers to that name."""
    minimum = _dotted(MINIMUM_TERRAFORM)
    install = _TERRAFORM_INSTALL.format(v=minimum)
    binary = shutil.which("terraform", path=environ.get("PATH", ""))
    if binary is None:
        tofu = shutil.which("tofu", path=environ.get("PATH", ""))
        if tofu is not None:
            return Check(
                "terraform", "missing", f"no terraform on PATH; OpenTofu found at {tofu}",
                f"eksml runs `terraform`: link OpenTofu under that name (ln -s {tofu} ~/.local/bin/terraform, "
                f"with ~/.local/bin on PATH; needs OpenTofu >= {minimum}), or {install}",
            )
        return Check("terraform", "missing", "terraform (or OpenTofu) is not on PATH", install)
    ran = _run([binary, "version", "-json"], environ)
    try:
        reported = json.loads(ran.output)["terraform_version"]
    except (ValueError, KeyError, TypeError):
        return Check("terraform", "missing", f"{binary}: {ran.error or 'cannot read its version'}", install)
    version = _version(reported)
    if version is None or version[:2] < MINIMUM_TERRAFORM:
        return Check(
            "terraform", "missing",
            f"terraform {reported} at {binary} is too old: S3 state locking (use_lockfile) needs >= {minimum}",
            install,
        )
    flavour = "OpenTofu" if "tofu" in Path(os.path.realpath(binary)).name else "Terraform"
    return Check("terraform", "ok", f"{flavour} {reported} ({binary})")


def check_provider_mirror(environ: Mapping[str, str]) -> Check:
    """terraform init never downloads unless told to: the AWS provider must be in a filesystem mirror."""
    name = "provider mirror"
    try:
        mirror = find_provider_mirror(environ)
    except StageError as exc:
        message = str(exc).split("\n")[0].split(": ", 1)[-1]
        return Check(name, "missing", message, exc.hint)
    if mirror is None:
        return Check(
            name, "ok",
            f"{MIRROR_ENV}={NETWORK}: {PROVIDER_ADDRESS} {PROVIDER_VERSION} is downloaded from the registry (needs network)",
        )
    return Check(name, "ok", f"{PROVIDER_ADDRESS} {PROVIDER_VERSION} in {mirror}")


def check_node(environ: Mapping[str, str]) -> Check:
    """jsii runs the CDKTF constructs on Node; JSII_NODE wins, then the project's .tools Node, then PATH."""
    name = "node (jsii)"
    fix = f"make install (puts Node {MINIMUM_NODE} into .tools/), or set JSII_NODE to a Node >= {MINIMUM_NODE}"
    configured = environ.get("JSII_NODE")
    if configured:
        binary, source = configured, "JSII_NODE"
    elif PROJECT_NODE.is_file():
        binary, source = str(PROJECT_NODE), ".tools"
    else:
        binary, source = shutil.which("node", path=environ.get("PATH", "")), "PATH"
    if not binary or (source != "PATH" and not os.access(binary, os.X_OK)):
        where = f"JSII_NODE={configured} is not an executable" if source == "JSII_NODE" else "no Node found"
        return Check(name, "missing", where, fix)
    ran = _run([binary, "--version"], environ)
    version = _version(ran.output) if ran.error is None else None
    if version is None:
        return Check(name, "missing", f"{binary} ({source}): {ran.error or 'cannot read its version'}", fix)
    detail = f"Node {_dotted(version)} ({binary}, from {source})"
    if version[0] < MINIMUM_NODE:
        return Check(name, "warn", f"{detail}: jsii no longer supports Node < {MINIMUM_NODE}", fix)
    return Check(name, "ok", detail)


def check_moto() -> Check:
    """The local default (`make deploy`) runs against moto's server, which needs the server extra."""
    fix = "make install (installs moto[server] 5.2.5 into .venv)"
    try:
        version = importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return Check("moto", "missing", "moto is not installed: the local environment has no AWS emulator", fix)
    absent = [extra for extra in ("flask", "flask-cors") if not _installed(extra)]
    if absent:
        return Check("moto", "missing", f"moto {version} without its server extra ({', '.join(absent)} missing)", fix)
    return Check("moto", "ok", f"moto {version} with server")


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def check_helm(environ: Mapping[str, str]) -> Check:
    """The project's .tools/bin/helm first, then PATH: the same helm render and install run."""
    fix = f"{INSTALL_HINT}; or install Helm >= {_dotted(MINIMUM_HELM)} (https://helm.sh/docs/intro/install/)"
    found = find_tool("helm", environ)
    if found is None:
        return Check("helm", "warn", "no helm in .tools/bin or on PATH", fix)
    ran = _run([str(found.path), "version", "--short"], environ)
    version = _version(ran.output) if ran.error is None else None
    if version is None:
        return Check("helm", "warn", f"{found.path}: {ran.error or 'cannot read its version'}", fix)
    if version[:2] < MINIMUM_HELM:
        return Check("helm", "warn", f"helm {_dotted(version)} ({found.path}) is older than {_dotted(MINIMUM_HELM)}", fix)
    return Check("helm", "ok", f"helm {_dotted(version)} ({found.path}, from {found.source})")


def check_kubectl(environ: Mapping[str, str]) -> Check:
    fix = (
        f"{INSTALL_HINT}; or install kubectl (https://kubernetes.io/docs/tasks/tools/) within one minor version "
        "of the cluster; only needed to operate a real cluster"
    )
    found = find_tool("kubectl", environ)
    if found is None:
        return Check("kubectl", "warn", "no kubectl in .tools/bin or on PATH", fix)
    ran = _run([str(found.path), "version", "--client", "-o", "json"], environ)
    try:
        reported = json.loads(ran.output)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        return Check("kubectl", "warn", f"{found.path}: {ran.error or 'cannot read its version'}", fix)
    return Check("kubectl", "ok", f"kubectl {reported} ({found.path}, from {found.source})")


# -- AWS -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    arn: str | None = None
    account: str | None = None
    source: str | None = None  # where the credentials came from (env, shared-credentials-file, sso, ...)
    error: str | None = None  # credentials exist but STS refused or could not be reached


def _aws_config():
    from botocore.config import Config

    return Config(
        connect_timeout=AWS_TIMEOUT_S, read_timeout=AWS_TIMEOUT_S, retries={"max_attempts": 1, "mode": "standard"}
    )


def _session(environ: Mapping[str, str]):
    import boto3

    profile = environ.get("AWS_PROFILE") or None
    return boto3.session.Session(profile_name=profile)


def _caller_identity(environ: Mapping[str, str]) -> _Identity | None:
    """None: no credentials at all (fine for the local emulator)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = _session(environ)
        credentials = session.get_credentials()
    except (BotoCoreError, ClientError) as exc:
        return _Identity(error=str(exc))
    if credentials is None:
        return None
    try:
        sts = session.client("sts", region_name=session.region_name or "us-east-1", config=_aws_config())
        answer = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        return _Identity(source=credentials.method, error=str(exc))
    return _Identity(arn=answer.get("Arn"), account=answer.get("Account"), source=credentials.method)


def check_aws_region(environ: Mapping[str, str], env: Environment | None) -> Check:
    try:
        region = _session(environ).region_name
    except Exception as exc:  # a broken ~/.aws/config or an unknown AWS_PROFILE
        return Check("aws region", "warn", f"cannot read the AWS configuration: {exc}", "fix ~/.aws/config or AWS_PROFILE")
    if region is None:
        detail = "no default region (environment files set their own region"
        detail += f"; {env.name} uses {env.region})" if env is not None else ")"
        return Check("aws region", "warn", detail, "export AWS_REGION=us-east-1 (or set region in ~/.aws/config) for the AWS CLI and scripts")
    return Check("aws region", "ok", region)


def check_aws_credentials(identity: _Identity | None, env: Environment | None) -> Check:
    name = "aws credentials"
    if identity is None:
        return Check(
            name, "warn", "no AWS credentials: fine for the local environment (emulator), needed for dev/staging/prod",
            "sign in to the environment's account: `aws sso login --profile NAME` and export AWS_PROFILE=NAME "
            "(or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
        )
    if identity.error is not None:
        return Check(
            name, "warn", f"credentials from {identity.source or 'the AWS configuration'} did not work: {identity.error}",
            "refresh them (`aws sso login`, new access keys) and check the network path to sts.amazonaws.com",
        )
    detail = f"{identity.arn} (account {identity.account}, from {identity.source})"
    if env is not None and not env.emulator and env.account_id and identity.account != env.account_id:
        return Check(
            name, "warn", f"{detail}, but {env.name} lives in account {env.account_id}: terraform refuses other accounts",
            f"use a profile or role of account {env.account_id} for {env.name}",
        )
    return Check(name, "ok", detail)


def check_state_bucket(env: Environment, identity: _Identity | None, environ: Mapping[str, str]) -> Check:
    """The S3 backend cannot create its bucket; a plan fails at init without it."""
    name = "state bucket"
    bucket = env.state.bucket
    create = f"create it once: .venv/bin/python scripts/bootstrap_state.py {env.name}"
    if env.emulator:
        return Check(name, "ok", f"{env.name} runs on the emulator: {bucket} is created there by `eksml deploy`")
    if identity is None or identity.error is not None:
        return Check(name, "warn", f"cannot check s3://{bucket} without working AWS credentials", "see `aws credentials` above")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3 = _session(environ).client("s3", region_name=env.region, config=_aws_config())
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return Check(name, "missing", f"s3://{bucket} does not exist", create)
        if status == 403:
            return Check(
                name, "missing", f"s3://{bucket} exists but {identity.arn} may not read it",
                f"use credentials of account {env.account_id or 'that owns it'}, or grant s3:ListBucket on arn:aws:s3:::{bucket}",
            )
        return Check(name, "warn", f"s3://{bucket}: {exc}", "check the credentials and the region in the environment file")
    except BotoCoreError as exc:
        return Check(name, "warn", f"s3://{bucket} could not be reached: {exc}", "check the network path to S3")
    return Check(name, "ok", f"s3://{bucket} ({env.region}) is reachable")


# -- output --------------------------------------------------------------------------------------


def format_report(report: Report) -> str:
    width = max(len(check.name) for check in report.checks)
    lines = []
    for check in report.checks:
        lines.append(f"{check.status:<8} {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != "ok":
            lines.append(f"{'':<8} {'':<{width}}  fix: {check.fix}")
    missing = [check.name for check in report.checks if check.status == "missing"]
    warned = sum(check.status == "warn" for check in report.checks)
    lines.append("")
    if missing:
        lines.append(f"not ready: {', '.join(missing)} missing" + (f"; {warned} warning(s)" if warned else ""))
    else:
        lines.append("ready" + (f" ({warned} warning(s): optional or only for real AWS)" if warned else ""))
    return "\n".join(lines)
