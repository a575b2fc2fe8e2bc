"""The local emulator process: start/stop, 127.0.0.1 only, clear failures, persistence; and the
state bucket plus real S3 state locking against it."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from eksml.config import load_environment
from eksml.emulator.process import Emulator, SNAPSHOT_FILE
from eksml.emulator.target import apply_environment, emulator_session
from eksml.errors import StageError
from eksml.paths import PROJECT_ROOT
from eksml.aws.state_bucket import ensure_state_bucket
from eksml.terraform import StateLocked, Terraform, prepare_terraform
from eksml.terraform.setup import PROVIDER_VERSION


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                found.add(address)
    return found


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


def test_listens_on_loopback_only_and_stops(tmp_path):
    emulator = Emulator()
    with emulator:
        port = emulator.port
        assert emulator.endpoint_url == f"http://127.0.0.1:{port}"
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::
        vpcs = emulator.client("ec2").describe_vpcs()["Vpcs"]
        assert vpcs  # moto's default VPC: the server answers real API calls
        log = emulator.log_path
        assert log.is_file()
    assert not emulator.running
    assert not log.exists()  # a throwaway emulator leaves nothing behind
    assert not _listening_addresses(port)


def test_taken_port_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StageError) as caught:
            Emulator(port=port).start()
    assert caught.value.stage == "emulator"
    assert f"port {port}" in str(caught.value) and "in use" in str(caught.value)


def test_unusable_snapshot_says_what_to_do(tmp_path):
    (tmp_path / SNAPSHOT_FILE).write_bytes(b"not a pickle")
    with pytest.raises(StageError) as caught:
        Emulator(state_dir=tmp_path).start()
    assert caught.value.stage == "emulator"
    assert "cannot be loaded" in str(caught.value)
    assert "UnpicklingError" in caught.value.hint and f"delete {tmp_path}" in caught.value.hint
    Emulator(state_dir=tmp_path / "other").start().stop()  # nothing left locked or running

    (tmp_path / SNAPSHOT_FILE).write_bytes(pickle.dumps({"version": 1, "moto": "0.0.1"}) + pickle.dumps({}))
    with pytest.raises(StageError) as caught:
        Emulator(state_dir=tmp_path).start()
    assert "written by moto 0.0.1" in caught.value.hint


def test_crash_during_start_reports_the_log_tail(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # a sitecustomize that kills the server as it starts
    (tmp_path / "sitecustomize.py").write_text("import os\nprint('boom: cannot start', flush=True)\nos._exit(7)\n")
    with pytest.raises(StageError) as caught:
        Emulator().start()
    assert caught.value.stage == "emulator"
    assert "exited during start (exit code 7)" in str(caught.value)
    assert "boom: cannot start" in caught.value.hint


def test_state_survives_a_restart(tmp_path):
    with Emulator(state_dir=tmp_path) as first:
        ec2 = first.client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
        s3 = first.client("s3")
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="state.json", Body=b'{"serial": 7}')
        role_arn = first.client("iam").create_role(RoleName="kept", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        first_port = first.port
    assert (tmp_path / SNAPSHOT_FILE).is_file()

    with Emulator(state_dir=tmp_path) as second:  # a new process, usually on another port
        ec2 = second.client("ec2")
        assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]] == [vpc_id]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        assert [(s["SubnetId"], s["CidrBlock"]) for s in subnets] == [(subnet_id, "10.42.1.0/24")]
        assert second.client("s3").get_object(Bucket="kept", Key="state.json")["Body"].read() == b'{"serial": 7}'
        assert second.client("iam").get_role(RoleName="kept")["Role"]["Arn"] == role_arn
    assert isinstance(first_port, int)


def test_one_run_at_a_time_per_state_dir(tmp_path):
    with Emulator(state_dir=tmp_path):
        with pytest.raises(StageError) as caught:
            Emulator(state_dir=tmp_path).start()
    assert caught.value.stage == "emulator" and f"pid {os.getpid()}" in str(caught.value)


def test_state_is_saved_when_the_starting_process_is_killed(tmp_path):
    """kill -9 of eksml: the emulator notices its parent is gone, saves, and exits."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from eksml.emulator.process import Emulator
        emulator = Emulator(state_dir=Path({str(tmp_path)!r})).start()
        vpc = emulator.client("ec2").create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
        print(vpc, emulator._process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    vpc_id, server_pid = parent.stdout.readline().split()
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Path(f"/proc/{server_pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{server_pid}").exists() or "zombie" in Path(f"/proc/{server_pid}/status").read_text()
    with Emulator(state_dir=tmp_path) as restarted:
        assert restarted.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["VpcId"] == vpc_id


# -- the state bucket and S3 locking ------------------------------------------------------------------


def test_state_bucket_is_versioned_encrypted_private_and_idempotent(emulator):
    env = load_environment("local")
    session = emulator_session()
    first = ensure_state_bucket(env, endpoint_url=emulator.endpoint_url, session=session)
    again = ensure_state_bucket(env, endpoint_url=emulator.endpoint_url, session=session)
    assert (first.created, again.created) == (True, False)
    s3 = emulator.client("s3")
    assert s3.get_bucket_versioning(Bucket=env.state.bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=env.state.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=env.state.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4


def test_bootstrap_script_creates_the_bucket(emulator):
    env = apply_environment(os.environ, emulator.environment())
    result = subprocess.run(
        [sys.executable, "scripts/bootstrap_state.py", "dev", "--endpoint-url", emulator.endpoint_url],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "acme-mlplatform-tfstate-dev" in result.stdout
    assert emulator.client("s3").get_bucket_versioning(Bucket="acme-mlplatform-tfstate-dev")["Status"] == "Enabled"


def test_conditional_writes_make_the_s3_lock_real(emulator, tmp_path):
    """moto honours If-None-Match: *, so terraform's use_lockfile really excludes a second plan."""
    env = load_environment("local")
    ensure_state_bucket(env, endpoint_url=emulator.endpoint_url, session=emulator_session())
    s3 = emulator.client("s3")
    s3.put_object(Bucket=env.state.bucket, Key="probe.tflock", Body=b"1", IfNoneMatch="*")
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.put_object(Bucket=env.state.bucket, Key="probe.tflock", Body=b"2", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"

    url = emulator.endpoint_url
    skip = {"skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True}
    config = {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}},
            "backend": {"s3": {"bucket": env.state.bucket, "key": "lock-test/network.tfstate", "region": env.region,
                               "use_lockfile": True, "encrypt": True, "use_path_style": True,
                               "endpoints": {"s3": url}, "skip_region_validation": True, **skip}},
        },
        # The AWS provider takes seconds to load, holding the lock of the first plan meanwhile.
        "provider": {"aws": [{"region": env.region, "endpoints": [{"ec2": url, "sts": url}], **skip}]},
        "resource": {"aws_vpc": {"main": {"cidr_block": "10.0.0.0/16"}}},
    }
    directory = tmp_path / "network"
    directory.mkdir()
    (directory / "cdk.tf.json").write_text(json.dumps(config))
    cli = prepare_terraform(tmp_path / "tf")
    first = Terraform("network", directory, tmp_path / "data", cli, extra_env=emulator.environment())
    second = Terraform("network", directory, tmp_path / "data", cli, extra_env=emulator.environment(),
                       unlock_hint="eksml unlock local network <ID>")
    first.init(reconfigure=True)

    plans: dict = {}
    worker = threading.Thread(target=lambda: plans.setdefault("first", first.plan()))
    worker.start()
    try:
        lock_key = "lock-test/network.tfstate.tflock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = s3.list_objects_v2(Bucket=env.state.bucket, Prefix="lock-test/").get("Contents", [])
            if any(item["Key"] == lock_key for item in listed):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the first plan never wrote its lock object")
        with pytest.raises(StateLocked) as caught:
            second.plan()
    finally:
        worker.join()
    assert plans["first"].has_changes  # the first plan was not disturbed
    lock = caught.value.lock
    assert lock is not None and lock.operation == "OperationTypePlan"
    assert lock.path == f"{env.state.bucket}/lock-test/network.tfstate"
    assert f"eksml unlock local network {lock.id}" in caught.value.hint
    # released afterwards: the lock object is gone
    listed = s3.list_objects_v2(Bucket=env.state.bucket, Prefix="lock-test/").get("Contents", [])
    assert lock_key not in {item["Key"] for item in listed}


def test_a_repeated_call_gets_its_first_answer_not_a_second_run(emulator):
    """A client that timed out waiting sends the same call again (same invocation id): the alias it
    asked for exists then, but the retry must not fail with AlreadyExists. A new call still does."""
    kms = emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    invocation = {"id": "retried-call"}

    def same_invocation(request, **_):
        request.headers["amz-sdk-invocation-id"] = invocation["id"]

    kms.meta.events.register("before-send.kms.CreateAlias", same_invocation)
    kms.create_alias(AliasName="alias/retried", TargetKeyId=key)
    kms.create_alias(AliasName="alias/retried", TargetKeyId=key)  # the retry: answered, not run
    invocation["id"] = "another-call"
    with pytest.raises(kms.exceptions.AlreadyExistsException):
        kms.create_alias(AliasName="alias/retried", TargetKeyId=key)
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]] == ["alias/retried"]


def test_the_provider_reaches_the_emulator_through_the_environment_alone(emulator, tmp_path, monkeypatch):
    """The synthesized provider names no endpoint (stacks/base.py): AWS_ENDPOINT_URL of the emulator
    environment routes it, and per-service endpoints the user has set elsewhere do not win over it."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_STS_ENDPOINT", "TF_AWS_S3_ENDPOINT"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    env = load_environment("local")
    ensure_state_bucket(env, endpoint_url=emulator.endpoint_url, session=emulator_session())
    config = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}},
        "provider": {"aws": [{"region": env.region, "access_key": "testing", "secret_key": "testing",
                              "skip_credentials_validation": True, "skip_metadata_api_check": "true",
                              "s3_use_path_style": True}]},
        "data": {"aws_caller_identity": {"me": {}}, "aws_s3_bucket": {"state": {"bucket": env.state.bucket}}},
        "output": {"account": {"value": "${data.aws_caller_identity.me.account_id}"},
                   "bucket": {"value": "${data.aws_s3_bucket.state.arn}"}},
    }
    directory = tmp_path / "probe"
    directory.mkdir()
    (directory / "cdk.tf.json").write_text(json.dumps(config))
    probe = Terraform("probe", directory, tmp_path / "data", prepare_terraform(tmp_path / "tf"),
                      extra_env=emulator.environment())
    probe.init()
    probe.apply_now()
    assert probe.output_values() == {"account": "123456789012", "bucket": f"arn:aws:s3:::{env.state.bucket}"}
