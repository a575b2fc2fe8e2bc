"""Second half of the gate's property test: whatever `validate` accepts also synthesizes and renders.

The shipped files are mutated the way a user edits them (drop a key, move a number to a boundary,
flip a flag, shorten a list); a mutation `validate` refuses is discarded, and every accepted one must
synthesize (Terraform JSON for every stack) and render (values, owned objects, the scheduling check)
without an error. A few examples in `make test`; `make fuzz` runs more (EKSML_BUILD_EXAMPLES).
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eksml.outputs import predict_outputs
from eksml.aws.synth import synthesize
from eksml.config import load_environment
from eksml.contract.outputs import AwsOutputs
from eksml.emulator.target import AwsTarget
from eksml.errors import ConfigError
from eksml.k8s.rendering.render import render_platform
from shipped import SHIPPED, shipped_data

SHIPPED_DATA = {name: shipped_data(name) for name in SHIPPED}
EXAMPLES = int(os.environ.get("EKSML_BUILD_EXAMPLES", "8"))


def paths_of(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,), value
            yield from paths_of(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield prefix + (index,), value
            yield from paths_of(value, prefix + (index,))


@st.composite
def edited_environment(draw):
    stem = draw(st.sampled_from(sorted(SHIPPED_DATA)))
    data = copy.deepcopy(SHIPPED_DATA[stem])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path, value = draw(st.sampled_from(list(paths_of(data))))
        *parents, leaf = path
        node = data
        for key in parents:
            node = node[key]
        if isinstance(value, bool):
            node[leaf] = not value
        elif isinstance(value, int):
            node[leaf] = draw(st.sampled_from([0, 1, 2, value - 1, value + 1, value * 2, value // 2]))
        elif isinstance(value, list) and len(value) > 1 and draw(st.booleans()):
            node[leaf] = value[: draw(st.integers(min_value=1, max_value=len(value) - 1))]
        else:
            del node[leaf]
    return stem, data


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(edited_environment())
def test_an_accepted_environment_synthesizes_and_renders(case):
    stem, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{stem}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        try:
            env = load_environment(path)
        except ConfigError:
            assume(False)
            return
        target = AwsTarget("http://127.0.0.1:45666") if env.emulator else AwsTarget()
        stacks = synthesize(env, Path(folder) / "synth", target)
        assert stacks and all((stack.directory / "cdk.tf.json").is_file() for stack in stacks)
        rendered = render_platform(env, predict_outputs(env), Path(folder) / "render")
        assert rendered.files
