"""checkov's Kubernetes policies over the rendered dev, staging and prod platforms (and dev in GMC mode): nothing fails but
the accepted failures of checkov-skips.yaml (`kubernetes:`), each one the charts' values cannot fix.

checkov is never given the list: the test sees every failure, so a failure values could fix fails
it, and an entry that matches nothing any more fails it too (the list only shrinks to what's true).
"""

from __future__ import annotations

import re
import sys

import pytest

from shipped import dev_with_gmc

from eksml.config import load_environment
from eksml.k8s.rendering.render import render_platform
from eksml.outputs import predict_outputs
from eksml.paths import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from checkov_kubernetes import CHECKOV, load_accepted, run_checkov, scan_copy, split  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")
# Failures values could fix that are not fixed yet: `make security-report` counts them as "values
# could fix". Remove an entry once it is fixed; the test fails when one passes.
NOT_YET_FIXED: frozenset[tuple[str, str]] = frozenset()


def test_every_accepted_failure_names_a_check_and_says_why():
    accepted = load_accepted()
    assert accepted
    for entry in accepted:
        assert re.fullmatch(r"CKV2?_K8S_\d+", entry.check), entry.check
        assert len(entry.reason) >= 40, f"{entry.check} {entry.release}: say why values cannot fix it"
        assert set(entry.environments) <= set(ENVIRONMENTS), entry
    keys = [(e.check, e.release, e.resources, e.environments) for e in accepted]
    assert len(keys) == len(set(keys)), "an entry is listed twice"


@pytest.fixture(scope="module")
def checkov_failures(dev_render, session_charts, session_cache, tmp_path_factory):
    if not CHECKOV.is_file():
        pytest.skip(f"checkov is not installed at {CHECKOV}; make test installs it")
    scans = {"dev": scan_copy(dev_render.out_dir, tmp_path_factory.mktemp("scan-dev"))}
    for name in ENVIRONMENTS[1:]:
        env = load_environment(name)
        render = render_platform(env, predict_outputs(env), tmp_path_factory.mktemp(f"render-{name}"),
                                 with_charts=True, cache=session_cache, mirror=session_charts.url)
        scans[name] = scan_copy(render.out_dir, tmp_path_factory.mktemp(f"scan-{name}"))
    gmc = dev_with_gmc()  # the releases only GMC mode installs
    render = render_platform(gmc, predict_outputs(gmc), tmp_path_factory.mktemp("render-dev-gmc"),
                             with_charts=True, cache=session_cache, mirror=session_charts.url)
    scans["dev-gmc"] = scan_copy(render.out_dir, tmp_path_factory.mktemp("scan-dev-gmc"))
    failures, summary = run_checkov(scans)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 600 and summary["passed"] > 5000  # every release was read
    return failures


def test_no_failure_values_could_fix(checkov_failures):
    unaccepted, _ = split(checkov_failures, load_accepted())
    pending = {(f.release, f.check) for f in unaccepted} & NOT_YET_FIXED
    assert pending == NOT_YET_FIXED, f"{sorted(NOT_YET_FIXED - pending)} pass now: take them off NOT_YET_FIXED"
    unaccepted = [f for f in unaccepted if (f.release, f.check) not in NOT_YET_FIXED]
    assert not unaccepted, ("fix these through the values, or add them to checkov-skips.yaml (kubernetes:) with "
                            "why values cannot:\n" + "\n".join(sorted(map(str, unaccepted))))


def test_every_accepted_failure_still_happens(checkov_failures):
    _, by_entry = split(checkov_failures, load_accepted())
    stale = [f"{entry.check} {entry.release} {list(entry.resources)}" for entry, hits in by_entry.items() if not hits]
    assert not stale, "these pass now; remove them from checkov-skips.yaml:\n" + "\n".join(stale)
