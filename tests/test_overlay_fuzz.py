"""Property test of the overlay gate: a mutated helm_values overlay is accepted or refused (ConfigError,
exit 2), never a crash, a hang or unbounded memory. `make fuzz` runs thousands (EKSML_FUZZ_EXAMPLES);
`make test` runs a few dozen. Values-only: the overlay gate runs before any chart is fetched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksml.config import load_environment
from eksml.errors import ConfigError
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs
from eksml.paths import HELM_VALUES_DIR

EXAMPLES = max(1, int(os.environ.get("EKSML_FUZZ_EXAMPLES", "300")) // 10)
BASE = (HELM_VALUES_DIR / "karpenter.yaml").read_bytes()
SNIPPETS = [b"&a x", b"*a", b"<<: {a: 1}", b"!!python/object:os.system x", b"yes", b"010", b"[" * 200,
            b"{" * 200, b"\xff\xfe", b"\x00", b"\t", b"key: 1\nkey: 2\n", b"- a\n", b"'unterminated", b"\r\n",
            b"\xef\xbb\xbf", b"a: " + b"x" * 5000, b": :", b"? [a]\n: b\n", b"%YAML 1.1\n---\n", b"---\n...\n"]
ENV = load_environment("dev")
OUTPUTS = predict_outputs(ENV)


@st.composite
def overlay(draw) -> bytes:
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=40)))
        if draw(st.booleans()):
            data[at:at + len(piece)] = piece
        else:
            data[at:at] = piece
    return bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=overlay(), component=st.sampled_from(["karpenter", "argocd", "mlflow"]))
def test_a_mutated_overlay_is_accepted_or_refused_never_a_crash(content: bytes, component: str):
    with tempfile.TemporaryDirectory() as scratch:
        values = Path(scratch) / "helm_values"
        shutil.copytree(HELM_VALUES_DIR, values)
        (values / "dev").mkdir(exist_ok=True)
        (values / "dev" / f"{component}.yaml").write_bytes(content)
        try:
            build_platform(ENV, OUTPUTS, values)
        except ConfigError as exc:
            assert exc.issues and all(issue.message for issue in exc.issues)
            assert all(str(values / "dev") in issue.file or issue.file.startswith(str(values)) for issue in exc.issues)
