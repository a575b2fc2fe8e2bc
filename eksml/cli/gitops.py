"""`eksml render ENV --gitops OUT`: the app-of-apps folder, and what was written."""

import json
from pathlib import Path

import click

from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs


def write_app_of_apps(environment: Environment, outputs: AwsOutputs, out: Path, output_format: str,
                      force: bool = False) -> None:
    from eksml.k8s.checks.checked_platform import checked_platform
    from eksml.k8s.rendering.gitops import ROOT_APP, write_gitops

    from eksml.k8s.rendering.output_folder import check_output_folder

    check_output_folder(out, {"README.md": "", ROOT_APP: ""}, force=force)  # refused before the slow part
    # The same checks as a plain render, on the same objects, before anything is written.
    checked = checked_platform(environment, outputs, with_charts=True)
    written = write_gitops(environment, checked.platform, out, force=force, charts=checked.charts)
    apps = [p for p in written if p.parent.name == "apps" and not p.name.startswith("repository-")]
    if output_format == "json":
        click.echo(json.dumps({"ok": True, "environment": environment.name, "out_dir": str(out),
                               "root": str(out / ROOT_APP), "applications": [p.stem for p in apps],
                               "files": [str(p) for p in written]}, indent=2))
        return
    click.echo(f"{environment.name}: wrote {len(apps)} Argo CD applications and {len(written) - len(apps)} other files "
               f"to {out}")
    click.echo(f"commit the folder, then bootstrap once: kubectl apply -f {out / ROOT_APP}")
