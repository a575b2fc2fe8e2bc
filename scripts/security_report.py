"""`make security-report`: issue 18's measures on the rendered dev, staging and prod platforms.

Per environment: pods clean at Pod Security restricted over all pods, namespaces enforcing
restricted over all namespaces (both as `eksml render` prints them), and checkov's Kubernetes
failures split into those values could fix (not accepted: the target is 0) and those the charts
decide (accepted in checkov-skips.yaml, each with its reason). A report, not a test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import serve_shared_charts
from checkov_kubernetes import CHECKOV, load_accepted, run_checkov, scan_copy, split

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "staging", "prod")
_PSS = re.compile(r"Pod Security: (\d+) of (\d+) pods pass restricted; (\d+) of (\d+) namespaces enforce it")


def main() -> int:
    if not CHECKOV.is_file():
        print(f"checkov is not installed at {CHECKOV}; `make test` installs it", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="eksml-security-") as scratch, serve_shared_charts(dict(os.environ)) as env:
        env["EKSML_WORK_DIR"] = scratch
        scans, pss = {}, {}
        for name in ENVIRONMENTS:
            out = Path(scratch) / name
            proc = subprocess.run([sys.executable, "-m", "eksml", "render", name, "--out", str(out)], cwd=ROOT,
                                  env=env, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                return 1
            found = _PSS.search(proc.stdout)
            pss[name] = found.groups() if found else ("?",) * 4
            scans[name] = scan_copy(out, Path(scratch) / f"scan-{name}")
        failures, _ = run_checkov(scans)
    unaccepted, by_entry = split(failures, load_accepted())
    print(f"{'environment':12} {'restricted pods':>16} {'restricted namespaces':>22} {'checkov: values could fix':>26} "
          f"{'charts decide':>14}")
    for name in ENVIRONMENTS:
        clean, pods, restricted, namespaces = pss[name]
        fixable = sum(1 for f in unaccepted if f.environment == name)
        decided = sum(1 for hits in by_entry.values() for f in hits if f.environment == name)
        print(f"{name:12} {clean + ' / ' + pods:>16} {restricted + ' / ' + namespaces:>22} {fixable:>26} {decided:>14}")
    print("\nFailures the charts decide, by reason (all environments):")
    for entry, hits in sorted(by_entry.items(), key=lambda item: -len(item[1])):
        if hits:
            releases = Counter(f.release for f in hits)
            print(f"  {entry.check} x{len(hits)} ({', '.join(sorted(releases))}): {entry.reason}")
    for failure in sorted(map(str, unaccepted)):
        print(f"  values could fix: {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
