"""`make bench`: cold and warm synth, every environment synthesized in one process against one
process each, one environment against the real `cdktf synth`, render of the real charts (cold and
warm chart cache), a fresh local deploy, a second (no-change) deploy, destroy.

The render needs the charts: from EKSML_CHART_MIRROR when set, else the team's shared repository
(../shared/charts or EKSML_SHARED_DIR) served on loopback, else each chart's publisher.

A benchmark, not a test: it prints numbers against the targets (fresh deploy < 180 s, second
deploy < 45 s on this 2-core machine) and never fails a build. It works in its own scratch
EKSML_WORK_DIR, so the user's own `make deploy` state is untouched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
EKSML = [sys.executable, "-m", "eksml"]

SYNTH_IN_ONE_PROCESS = """
import sys, tempfile, time
from pathlib import Path
from eksml.toolchain import prefer_supported_node
prefer_supported_node()
t0 = time.monotonic()
from eksml.config import load_environment
from eksml.aws.synth import synthesize
from eksml.emulator.target import AwsTarget
env = load_environment(sys.argv[1])
with tempfile.TemporaryDirectory() as out:
    synthesize(env, Path(out) / "a", AwsTarget())
    t1 = time.monotonic()
    synthesize(env, Path(out) / "b", AwsTarget())
    t2 = time.monotonic()
print(f"{t1 - t0:.2f} {t2 - t1:.2f}")
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.monotonic() - started, proc.returncode, proc.stdout + proc.stderr


def synth_rows(env_name: str, env: dict[str, str], scratch: Path) -> list[tuple[str, str, str]]:
    """Every environment in one `eksml synth --all` against one `eksml synth ENV` each, and one
    environment against `cdktf synth` (the CDKTF CLI driving eksml's app, as `make cdktf` does)."""
    names = sorted(path.stem for path in (ROOT / "environments").glob("*.yaml"))
    rows = []
    together, code, out = timed([*EKSML, "synth", "--all", "--outdir", str(scratch / "all")], env)
    if code:
        print(out[-3000:], file=sys.stderr)
        return [(f"synth {len(names)} environments, one process", "-", "failed")]
    apart = {}
    for name in names:
        apart[name], code, out = timed([*EKSML, "synth", name, "--outdir", str(scratch / "apart" / name)], env)
        if code:
            print(out[-3000:], file=sys.stderr)
            return rows
    separate = sum(apart.values())
    rows.append((f"synth {len(names)} environments, one process (synth --all)", f"{together:.1f}s",
                 f"{together / separate:.2f}x of {len(names)} processes, {together / apart[env_name]:.2f}x of one"))
    rows.append((f"synth {len(names)} environments, one process each", f"{separate:.1f}s", ""))
    cdktf = ROOT / ".tools" / "node_modules" / ".bin" / "cdktf"
    if not cdktf.is_file():
        return rows + [("cdktf synth: cdktf-cli is not in .tools (make install)", "-", "")]
    script = (f'eval "$({sys.executable} scripts/cdktf_env.py)" && '
              f"EKSML_ENV={env_name} {cdktf} synth --output {scratch / 'cdktf.out'}")
    theirs, code, out = timed(["bash", "-c", script], env)
    if code:
        print(out[-3000:], file=sys.stderr)
        return rows + [(f"cdktf synth {env_name}", f"{theirs:.1f}s", "failed")]
    rows.append((f"cdktf synth {env_name} (the CDKTF CLI)", f"{theirs:.1f}s", ""))
    rows.append((f"eksml synth {env_name}", f"{apart[env_name]:.1f}s",
                 f"{apart[env_name] / theirs:.2f}x of cdktf synth (target 0.5x)"))
    return rows


def _shared_charts() -> Path:
    shared = os.environ.get("EKSML_SHARED_DIR")
    return (Path(shared) if shared else ROOT.parent / "shared") / "charts"


@contextlib.contextmanager
def serve_shared_charts(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """env with EKSML_CHART_MIRROR: as given, else the team's shared repository served on loopback."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    env = dict(env)
    server = None
    charts = _shared_charts()
    if not env.get("EKSML_CHART_MIRROR") and (charts / "index.yaml").is_file():
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(charts)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["EKSML_CHART_MIRROR"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield env
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def render_rows(env_name: str, env: dict[str, str], scratch: Path) -> list[tuple[str, str, str]]:
    """`eksml render ENV` with the real charts: with empty caches, with the charts cached (every release
    templated again: the render cache off), then with the releases' renders cached too (target < 10 s)."""
    rows = []
    with serve_shared_charts(env) as env:
        runs = (("cold chart cache", None, {}), ("charts cached, render cache off", 10, {"EKSML_RENDER_CACHE": "off"}),
                ("charts and renders cached", 10, {}))
        for label, target, extra in runs:
            seconds, code, out = timed([*EKSML, "render", env_name, "--out", str(scratch / "render")], {**env, **extra})
            verdict = "failed" if code else ("" if target is None else ("ok" if seconds < target else f"over {target}s"))
            rows.append((f"render {env_name}, real charts, {label}", f"{seconds:.1f}s",
                         verdict + (f" (target < {target}s)" if target else "")))
            if code:
                print(out[-3000:], file=sys.stderr)
                break
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="environment to synthesize (default: dev)")
    parser.add_argument("--skip-deploy", action="store_true", help="no deploy and destroy")
    parser.add_argument("--skip-render", action="store_true", help="no render of the real charts")
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    base_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="eksml-bench-") as scratch:
        base_env["EKSML_WORK_DIR"] = scratch
        seconds, code, out = timed([sys.executable, "-c", SYNTH_IN_ONE_PROCESS, args.env], base_env)
        if code != 0:
            print(out, file=sys.stderr)
            return 1
        cold, warm = (float(x) for x in out.split()[-2:])
        rows.append((f"synth {args.env}, cold (new process, provider import)", f"{cold:.1f}s", ""))
        rows.append((f"synth {args.env}, warm (same process)", f"{warm:.1f}s", ""))
        rows += synth_rows(args.env, base_env, Path(scratch))
        if not args.skip_render:
            rows += render_rows(args.env, base_env, Path(scratch))
        if not args.skip_deploy:
            for label, command, target in (
                ("deploy local, fresh", [*EKSML, "deploy", "local"], 180),
                ("deploy local, second (no changes)", [*EKSML, "deploy", "local"], 45),
                ("destroy local", [*EKSML, "destroy", "local"], None),
            ):
                seconds, code, out = timed(command, base_env)
                verdict = "failed" if code else ("" if target is None else ("ok" if seconds < target else f"over {target}s"))
                rows.append((label, f"{seconds:.1f}s", verdict + (f" (target < {target}s)" if target else "")))
                if code:
                    print(out[-3000:], file=sys.stderr)
                    break

    width = max(len(row[0]) for row in rows)
    print(f"{'measurement'.ljust(width)}  time     verdict")
    for label, value, verdict in rows:
        print(f"{label.ljust(width)}  {value.ljust(7)}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
