"""Shared fixtures.

Synthesis fixtures are session-scoped: the CDKTF AWS binding takes 10-15 s to import and is loaded
once, on first use; each environment is then synthesized once (well under a second) per session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eksml.toolchain import prefer_supported_node

prefer_supported_node()

from eksml.config import Environment, load_environment  # noqa: E402
from eksml.config.loader import known_environments  # noqa: E402
from eksml.aws.synth import BuiltApp, SynthesizedStack, build  # noqa: E402
from eksml.emulator.target import AwsTarget  # noqa: E402
from shared_data import SHARED_DIR, UPSTREAM_DIR  # noqa: E402
# Real-chart renders shared by every test module: one fixture definition, so one render per session.
from chart_repo import chart_mirror  # noqa: E402, F401 (a fixture)
from moto_endpoint import moto_endpoint  # noqa: E402, F401
from rendered_platform import chart_llm_render, cli_charts, dev_render, session_cache, session_charts  # noqa: E402, F401


def pytest_sessionstart(session: pytest.Session) -> None:
    """One clear error instead of a hundred missing files: the schema tests need the shared data."""
    if not UPSTREAM_DIR.is_dir():
        raise pytest.UsageError(
            f"shared test data not found at {SHARED_DIR}: clone next to the team's shared folder (../shared) "
            "or set EKSML_SHARED_DIR to it"
        )


# A URL only written into the synthesized files; nothing listens there during these tests.
TEST_EMULATOR_ENDPOINT = "http://127.0.0.1:45666"


@dataclass
class SynthesizedEnvironment:
    """One environment synthesized to disk, with its construct tree kept for cdktf's Testing API."""

    env: Environment
    target: AwsTarget
    built: BuiltApp
    stacks: list[SynthesizedStack]
    _configs: dict[str, dict] = field(default_factory=dict)

    def config(self, stack: str) -> dict:
        """The stack's cdk.tf.json, parsed once."""
        if stack not in self._configs:
            entry = next(s for s in self.stacks if s.name == stack)
            self._configs[stack] = json.loads(entry.config_file.read_text())
        return self._configs[stack]

    def resources(self, stack: str, resource_type: str) -> dict[str, dict]:
        return self.config(stack).get("resource", {}).get(resource_type, {})

    def all_resources(self) -> list[tuple[str, str, str, dict]]:
        """(stack, type, name, body) for every resource of every stack."""
        return [
            (stack.name, rtype, name, body)
            for stack in self.stacks
            for rtype, items in self.config(stack.name).get("resource", {}).items()
            for name, body in items.items()
        ]


def _synthesize(env: Environment, target: AwsTarget, outdir: Path) -> SynthesizedEnvironment:
    built = build(env, target, outdir)
    return SynthesizedEnvironment(env=env, target=target, built=built, stacks=built.synth())


@pytest.fixture(scope="session")
def synthesized_environments(tmp_path_factory) -> dict[str, SynthesizedEnvironment]:
    """Every shipped environment, synthesized once for the target it declares (emulator or AWS)."""
    result = {}
    for name in known_environments():
        env = load_environment(name)
        target = AwsTarget(TEST_EMULATOR_ENDPOINT) if env.emulator else AwsTarget()
        result[name] = _synthesize(env, target, tmp_path_factory.mktemp(f"synth-{name}"))
    return result


@pytest.fixture(scope="session")
def synthesized_dev_on_emulator(tmp_path_factory) -> SynthesizedEnvironment:
    """dev synthesized for the emulator, as `eksml plan dev --emulator` does."""
    return _synthesize(
        load_environment("dev"), AwsTarget(TEST_EMULATOR_ENDPOINT), tmp_path_factory.mktemp("synth-dev-emulator")
    )



# The emulator files in two lanes, each a single work unit that one worker runs file after file:
# they start first and at most two emulator flows run at once. Their provider waits cost CPU the
# longer they last, so four flows side by side (and beside the renders) made every one slower.
EMULATOR_LANES = {
    "tests/test_local_default.py": "emulator lane 1",
    "tests/test_cdktf_cli.py": "emulator lane 2",
    "tests/test_preview_plan.py": "emulator lane 2",
    "tests/test_reading_creates_nothing.py": "emulator lane 2",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    files = {item.nodeid.split('::', 1)[0] for item in items if item.get_closest_marker("emulator")}
    assert files <= set(EMULATOR_LANES), f"put {sorted(files - set(EMULATOR_LANES))} in an EMULATOR_LANES lane"
    lanes = sorted(set(EMULATOR_LANES.values()))
    items.sort(key=lambda item: lanes.index(EMULATOR_LANES[path]) if (path := item.nodeid.split('::', 1)[0])
               in EMULATOR_LANES else len(lanes))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class EmulatorLanes(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return EMULATOR_LANES.get(path, path)

    return EmulatorLanes(config, log)
