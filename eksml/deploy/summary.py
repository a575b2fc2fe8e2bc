"""The closing words of a deploy: what the user got, where the files are, and what to do next."""

from __future__ import annotations

from eksml.deploy.pipeline import DeployReport
from eksml.paths import PROJECT_ROOT


def _shown(path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def describe_deploy(report: DeployReport) -> str:
    env, outputs = report.env, report.outputs
    where = "the local AWS emulator (moto, 127.0.0.1)" if report.emulated else f"AWS account {env.account_id or '(from credentials)'}"
    lines = [f"Platform '{env.name}' is deployed on {where}, region {env.region}."]
    if outputs is not None:
        lines.append(f"  cluster      {outputs.cluster_name} (Kubernetes {env.cluster.kubernetes_version})")
        for name, pool in env.node_pools.items():
            sharing = ""
            if pool.time_slicing:
                sharing = f", time-slicing x{pool.time_slicing.replicas}"
            elif pool.mig:
                sharing = f", MIG {pool.mig.strategy} [{', '.join(pool.mig.layout)}]"
            lines.append(
                f"  node pool    {name}: {', '.join(pool.instance_types)} {pool.min_size}-{pool.max_size} nodes{sharing}"
            )
        lines.append(f"  buckets      {', '.join(sorted(outputs.bucket_names.values()))}")
        lines.append(f"  database     {outputs.db_endpoint}:{outputs.db_port} (password in Secrets Manager)")
        if outputs.efs_file_system_id:
            lines.append(f"  file system  {outputs.efs_file_system_id}")
        lines.append(f"  karpenter    interruption queue {outputs.karpenter_interruption_queue_name}")
    if report.changed_stacks:
        lines.append(f"  changed      stacks {', '.join(report.changed_stacks)}")
    else:
        lines.append("  changed      nothing: every stack was already up to date")
    if report.not_emulated:
        lines.append(f"  not emulated {', '.join(report.not_emulated)} (the emulator answers 404; real AWS creates them)")
    if report.render_dir is not None:
        lines.append(f"  rendered     {_shown(report.render_dir)}/ — start with {_shown(report.render_index)}")
    lines.append("")
    lines.append("Next:")
    if report.render_index is not None:
        lines.append(f"  - read {_shown(report.render_index)}: which pool serves which workload")
    if not report.installed and report.emulated:
        lines.append("  - the emulator has no Kubernetes API; on a real account the same command installs the layer:"
                     " eksml deploy dev --context <kube-context>")
    elif not report.installed:
        lines.append(f"  - install the Kubernetes layer: eksml deploy {env.name} --context <kube-context>")
    lines.append(f"  - see drift: eksml status {env.name}; tear down: eksml destroy {env.name}"
                 + (" (or make destroy)" if env.name == "local" else ""))
    if env.name == "local":
        lines.append("  - preview a cloud environment without an account: eksml plan dev --emulator")
    return "\n".join(lines)
