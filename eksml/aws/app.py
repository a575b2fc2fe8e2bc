"""App entry point for the CDKTF CLI (`cdktf synth`, see cdktf.json).

EKSML_ENV picks the environment (default dev); EKSML_EMULATOR_ENDPOINT, when set, targets the
emulator. `eksml synth ENV` does the same without the CDKTF CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from eksml.config import load_environment
from eksml.errors import ConfigError, Issue, StageError
from eksml.aws.synth import synthesize
from eksml.emulator.target import DEFAULT_EMULATOR_ENDPOINT, AwsTarget, endpoint_problem

ENDPOINT_VARIABLE = "EKSML_EMULATOR_ENDPOINT"


def main() -> int:
    try:
        env = load_environment(os.environ.get("EKSML_ENV", "dev"))
        endpoint = os.environ.get(ENDPOINT_VARIABLE) or (DEFAULT_EMULATOR_ENDPOINT if env.emulator else None)
        problem = endpoint and endpoint_problem(endpoint, DEFAULT_EMULATOR_ENDPOINT)
        if problem:
            raise ConfigError([Issue(ENDPOINT_VARIABLE, "", problem)])
        # The CDKTF CLI tells the app where to write through CDKTF_OUTDIR.
        synthesize(env, Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")), AwsTarget(endpoint))
    except (ConfigError, StageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
