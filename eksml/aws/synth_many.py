"""Several environments synthesized in one process, so the CDKTF AWS binding (10-15 s to import)
is loaded once for all of them: what CI needs when a change touches several environment files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eksml.aws.synth import SynthesizedStack, default_outdir, synthesize
from eksml.config.models import Environment
from eksml.emulator.target import DEFAULT_EMULATOR_ENDPOINT, AwsTarget


@dataclass(frozen=True)
class EnvironmentSynthesis:
    env: Environment
    target: AwsTarget
    stacks: list[SynthesizedStack]


def target_for(env: Environment, emulator_endpoint: str | None, emulator: bool) -> AwsTarget:
    """The emulator when asked for, or when the environment runs only there; else real AWS."""
    if emulator_endpoint or emulator or env.emulator:
        return AwsTarget(emulator_endpoint or DEFAULT_EMULATOR_ENDPOINT)
    return AwsTarget()


def synthesize_each(
    envs: Sequence[Environment],
    target_of: Callable[[Environment], AwsTarget],
    outdir_of: Callable[[Environment, AwsTarget], Path] = lambda env, target: default_outdir(env.name, target),
) -> list[EnvironmentSynthesis]:
    """Every environment in turn, each to its own directory (by default .eksml/<env>/...)."""
    done = []
    for env in envs:
        target = target_of(env)
        done.append(EnvironmentSynthesis(env, target, synthesize(env, outdir_of(env, target), target)))
    return done
