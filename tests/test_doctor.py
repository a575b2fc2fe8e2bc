"""`eksml doctor` on this machine: real tools, a PATH without them, and a real moto server for AWS."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.kube_tools import TOOLS_BIN
from eksml.toolchain import PROJECT_NODE

NO_AWS = {
    # No credentials anywhere, no instance metadata: the AWS checks answer at once.
    "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None,
    "AWS_DEFAULT_REGION": None, "AWS_REGION": None, "AWS_ENDPOINT_URL": None,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def doctor(*args: str, **env: str | None):
    result = CliRunner().invoke(cli, ["doctor", "--output", "json", *args], env={**NO_AWS, **env})
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    return result.exit_code, report, {check["name"]: check for check in report["checks"]}


def path_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only links to the named real tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} must be installed for this test"
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_this_machine_is_ready_and_terraform_is_found():
    code, report, checks = doctor()
    assert code == 0 and report["ok"] is True
    terraform = checks["terraform"]
    assert terraform["status"] == "ok"
    assert shutil.which("terraform") in terraform["detail"]
    assert checks["provider mirror"]["status"] == "ok" and "5.100.0" in checks["provider mirror"]["detail"]
    assert checks["moto"]["status"] == "ok" and "5.2.5" in checks["moto"]["detail"]
    # no credentials is fine for local use: a warning with the way to sign in, not a failure
    assert checks["aws credentials"]["status"] == "warn" and "aws sso login" in checks["aws credentials"]["fix"]


def test_json_shape_and_every_problem_has_a_fix():
    _, report, checks = doctor()
    assert set(report) == {"ok", "checks"}
    assert {"terraform", "provider mirror", "node (jsii)", "moto", "helm", "kubectl", "aws region", "aws credentials"} <= set(checks)
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in ("ok", "missing", "warn")
        assert check["detail"]
        if check["status"] != "ok":
            assert check["fix"], check


def test_a_path_without_terraform_reports_it_missing_with_the_fix(tmp_path: Path):
    code, report, checks = doctor(PATH=path_with(tmp_path))
    assert code == 1 and report["ok"] is False
    assert checks["terraform"]["status"] == "missing"
    assert "install Terraform" in checks["terraform"]["fix"]
    # helm and kubectl never fail the doctor; the project's own copies (.tools/bin) are found without PATH
    for tool in ("helm", "kubectl"):
        if (TOOLS_BIN / tool).is_file():
            assert checks[tool]["status"] == "ok" and "from .tools" in checks[tool]["detail"], checks[tool]
        else:
            assert checks[tool]["status"] == "warn" and "make install" in checks[tool]["fix"], checks[tool]


def test_opentofu_alone_is_named_with_how_to_use_it(tmp_path: Path):
    bin_dir = Path(path_with(tmp_path))
    (bin_dir / "tofu").symlink_to(shutil.which("terraform"))
    code, _, checks = doctor(PATH=str(bin_dir))
    assert code == 1
    assert "OpenTofu found" in checks["terraform"]["detail"]
    assert "ln -s" in checks["terraform"]["fix"]


def test_the_text_report_shows_the_fix_under_the_problem(tmp_path: Path):
    result = CliRunner().invoke(cli, ["doctor"], env={**NO_AWS, "PATH": path_with(tmp_path)})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("missing") and "terraform" in line)
    assert "fix: install Terraform" in lines[at + 1]
    assert lines[-1].startswith("not ready: terraform missing")


def test_an_old_node_for_jsii_is_a_warning_with_make_install(tmp_path: Path):
    old = shutil.which("node")
    if old is None or old == str(PROJECT_NODE):
        pytest.skip("no second Node on PATH to play the old one")
    _, _, checks = doctor(JSII_NODE=old)
    if checks["node (jsii)"]["status"] == "ok":
        pytest.skip(f"the Node on PATH ({checks['node (jsii)']['detail']}) is not older than 22")
    assert checks["node (jsii)"]["status"] == "warn"
    assert "make install" in checks["node (jsii)"]["fix"]


def test_a_jsii_node_that_does_not_exist_is_missing():
    code, _, checks = doctor(JSII_NODE="/nonexistent/node")
    assert code == 1
    assert checks["node (jsii)"]["status"] == "missing"
    assert "JSII_NODE=/nonexistent/node" in checks["node (jsii)"]["detail"]


def test_no_mirror_and_no_network_choice_is_missing(tmp_path: Path):
    code, _, checks = doctor(EKSML_PROVIDER_MIRROR=str(tmp_path / "empty-mirror"))
    assert code == 1
    assert checks["provider mirror"]["status"] == "missing"
    assert "EKSML_PROVIDER_MIRROR=network" in checks["provider mirror"]["fix"]
    _, _, checks = doctor(EKSML_PROVIDER_MIRROR="network")
    assert checks["provider mirror"]["status"] == "ok"


def test_the_emulator_environment_needs_no_state_bucket():
    code, _, checks = doctor("--env", "local")
    assert code == 0
    assert checks["state bucket"]["status"] == "ok" and "emulator" in checks["state bucket"]["detail"]


def test_a_bad_env_is_bad_input(tmp_path: Path):
    result = CliRunner().invoke(cli, ["doctor", "--env", "nope"], env=NO_AWS)
    assert result.exit_code == 2
    assert "no such environment file" in result.output


def test_state_bucket_and_account_against_a_real_s3_api(moto_endpoint: str, tmp_path: Path):
    import boto3

    aws = {
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="acme-mlplatform-tfstate-dev")

    code, _, checks = doctor("--env", "dev", **aws)
    assert code == 0, checks
    assert checks["state bucket"]["status"] == "ok"
    assert "acme-mlplatform-tfstate-dev" in checks["state bucket"]["detail"]
    # moto answers for account 123456789012, which is dev's account
    assert checks["aws credentials"]["status"] == "ok" and "123456789012" in checks["aws credentials"]["detail"]
    assert checks["aws region"]["status"] == "ok"

    code, _, checks = doctor("--env", "staging", **aws)
    assert code == 1
    assert checks["state bucket"]["status"] == "missing"
    assert "bootstrap_state.py staging" in checks["state bucket"]["fix"]
    assert checks["aws credentials"]["status"] == "warn"
    assert "345678901234" in checks["aws credentials"]["detail"], "credentials of another account are called out"


def test_credentials_that_do_not_work_are_a_warning(tmp_path: Path):
    with socket.socket() as probe:  # a port nobody listens on: STS cannot be reached
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    code, _, checks = doctor(
        "--env", "dev", AWS_ENDPOINT_URL=dead, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_DEFAULT_REGION="us-east-1"
    )
    assert time.monotonic() - started < 30, "AWS calls have short timeouts"
    assert code == 0, "unreachable AWS is a warning: local use still works"
    assert checks["aws credentials"]["status"] == "warn" and "did not work" in checks["aws credentials"]["detail"]
    assert checks["state bucket"]["status"] == "warn"
