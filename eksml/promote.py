"""Promotion: copy the versions one environment runs into the next one's file, for a pull request.

Only versions travel (Kubernetes, AMI release, chart versions, the KServe mode tied to its version,
the ChatQnA models and their serving engine). Everything an environment owns — sizing, network,
access, storage, teams, tags, state, account — stays as the target has it. The target file is edited
in place, scalar by scalar, so every byte not promoted stays as written (comments, indentation, quoting,
CRLF, byte order mark); it is validated as a whole before it is written, under a lock, replaced
atomically and read back to check it holds what the summary says.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksml.config import Environment, Tier, load_environment, resolve_environment_file
from eksml.config.loader import check_environment_path, printable
from eksml.config.models import Addons
from eksml.components import addon_switches
from eksml.config.file_write import atomic_write, locked
from eksml.config.yaml_edit import set_scalars
from eksml.config.yaml_source import decode_utf8, parse_yaml
from eksml.errors import ConfigError, Issue, StageError

# The promotion path; local is a sandbox and not on it.
PROMOTION_ORDER: tuple[Tier, ...] = (Tier.dev, Tier.staging, Tier.prod)

# Fields that are environment-owned and never promoted, named for the summary.
KEPT_SECTIONS: tuple[str, ...] = (
    "account_id", "region", "availability_zones", "tags", "state", "network",
    "cluster (name, endpoint access, public_access_cidrs, admins, log_types)",
    "node_pools (sizes, instance types, GPU sharing)", "storage", "karpenter", "teams",
    "addons.*.enabled", "genai.chatqna (enabled, flow, llm_from_serving, llm_node_pool, llm_gpu)",
    "serving.models (pool, mig_profile, replicas, sizes; a model the target does not serve is not added)", "access",
)


@dataclass(frozen=True)
class Change:
    field: str  # dotted path in the environment file
    before: str | None  # None: the target does not set the field yet
    after: str


@dataclass(frozen=True)
class Promotion:
    source: str
    target: str
    source_tier: Tier
    target_tier: Tier
    target_file: Path
    forced: bool
    changes: tuple[Change, ...]
    notes: tuple[str, ...]  # promoted fields left alone, and why
    kept_differences: tuple[str, ...]  # environment-owned fields where the target differs from the source
    original_text: str
    new_text: str

    @property
    def title(self) -> str:
        return f"Promote {self.source} → {self.target}"


def promoted_fields(env: Environment) -> dict[str, str | None]:
    """Every promoted field's value; a ChatQnA-less environment simply has no model fields."""
    fields: dict[str, str | None] = {
        "cluster.kubernetes_version": env.cluster.kubernetes_version,
        "cluster.ami_release_version": env.cluster.ami_release_version,
    }
    for key, switch in addon_switches().items():
        addon = getattr(env.addons, key)
        fields[f"addons.{key}.version"] = addon.version
        # An option's vocabulary is defined by the release (KServe v0.20 renamed RawDeployment to
        # Standard); compared after normalisation, so an alias spelling in the target is not churned.
        for option in switch.options:
            fields[f"addons.{key}.{option.name}"] = getattr(addon, option.name)
    chatqna = env.genai.chatqna
    if chatqna is not None:
        for name in ("embedding_model", "reranking_model", "llm_model", "llm_serving"):
            fields[f"genai.chatqna.{name}"] = getattr(chatqna, name)
    # Served models travel like chart versions: what is served (and its canary), not where or how big.
    for name, model in env.serving.models.items():
        fields[f"serving.models.{name}.source"] = model.source
        if model.size_gb is not None:  # the size of that version's weights (a registry model has no catalog size)
            fields[f"serving.models.{name}.size_gb"] = model.size_gb  # type: ignore[assignment]
        if model.canary is not None:
            fields[f"serving.models.{name}.canary.source"] = model.canary.source
            fields[f"serving.models.{name}.canary.traffic_percent"] = model.canary.traffic_percent  # type: ignore[assignment]
    return fields


def check_order(source: Environment, target: Environment, force: bool, file: str) -> None:
    """dev → staging → prod, one stage at a time; --force overrides for hotfixes and rebuilds."""
    if force:
        return
    src, dst = source.resolved_tier, target.resolved_tier
    path = " → ".join(t.value for t in PROMOTION_ORDER)
    if src not in PROMOTION_ORDER or dst not in PROMOTION_ORDER:
        sandbox = source.name if src not in PROMOTION_ORDER else target.name
        raise _order_error(file, f"{sandbox} is tier local, a sandbox outside the promotion path {path}; pass --force to promote anyway")
    step = PROMOTION_ORDER.index(dst) - PROMOTION_ORDER.index(src)
    if step < 0:
        raise _order_error(
            file,
            f"promoting {source.name} ({src.value}) → {target.name} ({dst.value}) goes backwards on the path {path}; "
            "versions flow forward only. Pass --force to copy them anyway (e.g. a rollback)",
        )
    if step > 1:
        skipped = ", ".join(t.value for t in PROMOTION_ORDER[PROMOTION_ORDER.index(src) + 1 : PROMOTION_ORDER.index(dst)])
        raise _order_error(
            file,
            f"promoting {source.name} ({src.value}) → {target.name} ({dst.value}) skips {skipped} on the path {path}; "
            f"promote to {skipped} first, or pass --force (e.g. an emergency fix)",
        )


def _order_error(file: str, message: str) -> ConfigError:
    return ConfigError([Issue(file, "tier", message)])


def plan_promotion(source_ref: str | Path, target_ref: str | Path, *, force: bool = False) -> Promotion:
    """Everything but the write: validates both files and the result, raises ConfigError (exit 2)."""
    source_file = resolve_environment_file(source_ref)
    target_file = resolve_environment_file(target_ref)
    for path in (source_file, target_file):  # before resolve(): a symlink loop is bad input, not a crash
        check_environment_path(path, _shown(path))
    if source_file.resolve() == target_file.resolve():
        raise ConfigError([Issue(_shown(target_file), "", "source and target are the same file; name two environments")])
    source = load_environment(source_file)
    target = load_environment(target_file)
    check_order(source, target, force, _shown(target_file))

    original_text = _read_text(target_file)
    # The strict reader refuses what two YAML readers could read differently (duplicate keys, anchors
    # and aliases, yes/no, 010) before the edit, so the file written is the file eksml validated.
    parse_yaml(original_text, _shown(target_file))
    edits: dict[str, str] = {}
    wanted, have = promoted_fields(source), promoted_fields(target)
    changes: list[Change] = []
    notes: list[str] = []
    if source.genai.chatqna is not None and target.genai.chatqna is None:
        notes.append(f"{target.name} has no genai.chatqna: the ChatQnA models of {source.name} are not copied")
    if source.genai.chatqna is None and target.genai.chatqna is not None:
        notes.append(f"{source.name} has no genai.chatqna: {target.name} keeps its ChatQnA models")
    for field, after in wanted.items():
        if field not in have:
            continue
        before = have[field]
        if after is None:
            if before is not None:
                notes.append(f"`{field}`: kept {before}; {source.name} does not pin one")
            continue
        if after == before:
            continue
        edits[field] = after
        changes.append(Change(field, before, after))

    new_text = set_scalars(original_text, edits, _shown(target_file)) if changes else original_text
    if changes:
        _validate_result(new_text, target_file, source.name)
    return Promotion(
        source=source.name,
        target=target.name,
        source_tier=source.resolved_tier,
        target_tier=target.resolved_tier,
        target_file=target_file,
        forced=force,
        changes=tuple(changes),
        notes=tuple(sorted(notes)),
        kept_differences=tuple(_kept_differences(source, target, wanted.keys() | have.keys())),
        original_text=original_text,
        new_text=new_text,
    )


@contextmanager
def promotion_lock(target_ref: str | Path) -> Iterator[None]:
    """Held from reading the target to checking it was written: a second promote into the file waits."""
    target_file = resolve_environment_file(target_ref)
    with locked(target_file.resolve(), "promote", _shown(target_file)):
        yield


def write_promotion(promotion: Promotion) -> bool:
    """Write the target file if anything changed; False when there was nothing to write."""
    if not promotion.changes:
        return False
    real = promotion.target_file.resolve()
    current = _read_bytes(real)
    if _decoded(current, real) != promotion.original_text:
        raise StageError(
            "promote", f"{_shown(promotion.target_file)} changed while the promotion was prepared; nothing was written",
            hint="run the promotion again",
        )
    new = (_BOM if current.startswith(_BOM) else b"") + promotion.new_text.encode("utf-8")
    atomic_write(real, new, "promote")
    _check_written(promotion, real, new, current)
    return True


def written_through(promotion: Promotion) -> Path | None:
    """The real file when the target is a symlink: the promotion writes through to it."""
    return promotion.target_file.resolve() if promotion.target_file.is_symlink() else None


_BOM = b"\xef\xbb\xbf"


def _check_written(promotion: Promotion, real: Path, expected: bytes, original: bytes) -> None:
    """Read the file back: it must be the bytes written and hold every promoted value; else restore."""
    problem = None
    if _read_bytes(real) != expected:
        problem = "holds other bytes than were written"
    else:
        try:
            fields = promoted_fields(load_environment(promotion.target_file))  # through a symlink: its name
        except ConfigError as exc:
            problem = f"does not validate: {exc.issues[0].path}: {exc.issues[0].message}"
        else:
            wrong = [c.field for c in promotion.changes if fields.get(c.field) != c.after]
            if wrong:
                problem = f"does not hold the promoted {', '.join(wrong)}"
    if problem:
        atomic_write(real, original, "promote")
        raise StageError("promote", f"{_shown(promotion.target_file)} read back after writing {problem}; "
                         "the original was restored", hint="report this; promote again or edit by hand")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StageError("promote", f"cannot read {_shown(path)}: {exc.strerror or exc}") from exc


def _decoded(data: bytes, path: Path) -> str:
    return decode_utf8(data, _shown(path))


def _read_text(path: Path) -> str:
    """Strict UTF-8 with a byte order mark dropped and line endings kept: the text that is edited."""
    return _decoded(_read_bytes(path), path)


def _validate_result(text: str, target_file: Path, source_name: str) -> None:
    """Load the promoted text exactly as `eksml validate` would, from a scratch copy with the same name."""
    with tempfile.TemporaryDirectory(prefix="eksml-promote-") as scratch:
        candidate = Path(scratch) / target_file.name
        candidate.write_text(text)
        try:
            load_environment(candidate)
        except ConfigError as exc:
            raise ConfigError(
                [
                    Issue(_shown(target_file), issue.path, f"after promotion from {source_name}: {issue.message}; nothing was written")
                    for issue in exc.issues
                ]
            ) from None


def _shown(path: Path) -> str:
    """The name as the user reads it: control characters escaped, so it names this file."""
    try:
        return printable(str(path.resolve().relative_to(Path.cwd())))
    except (ValueError, OSError, RuntimeError):  # not below cwd, or a symlink loop
        return printable(str(path))


def _kept_differences(source: Environment, target: Environment, promoted: set[str]) -> Iterator[str]:
    """Leaf paths where the two environments legitimately differ: what a reviewer sees was kept."""
    skip = promoted | {"name"}
    theirs = source.model_dump(mode="json")
    for path, value in _leaves(target.model_dump(mode="json")):
        if path not in skip and _lookup(theirs, path) != value:
            yield path


def _leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, data


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


def summary_markdown(promotion: Promotion, *, written: bool, dry_run: bool) -> str:
    """First line is the PR title; the rest is the PR description."""
    lines = [promotion.title, ""]
    tiers = f"{promotion.source_tier.value} → {promotion.target_tier.value}"
    lines.append(f"Copies the versions `{promotion.source}` runs into `{promotion.target_file.name}` ({tiers}).")
    if promotion.forced:
        lines.append("")
        lines.append("**Forced**: the promotion order check was overridden with `--force`.")
    lines.append("")
    if promotion.changes:
        lines += ["| field | from | to |", "|---|---|---|"]
        for change in promotion.changes:
            before = f"`{change.before}`" if change.before is not None else "(not set)"
            lines.append(f"| `{change.field}` | {before} | `{change.after}` |")
    else:
        lines.append(f"no changes: `{promotion.target}` already runs the versions of `{promotion.source}`.")
    lines += ["", f"Kept as `{promotion.target}` has them (never promoted): {', '.join(KEPT_SECTIONS)}."]
    if promotion.kept_differences:
        lines += [
            "",
            f"<details><summary>{len(promotion.kept_differences)} environment-owned fields differ from "
            f"{promotion.source} and were kept</summary>",
            "",
        ]
        lines += [f"- `{path}`" for path in promotion.kept_differences]
        lines += ["", "</details>"]
    if promotion.notes:
        lines += ["", "Notes:"] + [f"- {note}" for note in promotion.notes]
    lines.append("")
    if dry_run:
        lines.append(f"_Dry run: {_shown(promotion.target_file)} was not written._")
    elif written:
        lines.append(f"_Written: {_shown(promotion.target_file)}._")
    real = written_through(promotion)
    if real is not None and not dry_run:
        lines.append(f"_{promotion.target_file} is a symlink: {real} was {'written' if written else 'read'} (the link is kept)._")
    else:
        lines.append(f"_{_shown(promotion.target_file)} is unchanged._")
    return "\n".join(lines)


def summary_json(promotion: Promotion, *, written: bool, dry_run: bool) -> dict:
    return {
        "ok": True,
        "title": promotion.title,
        "source": promotion.source,
        "target": promotion.target,
        "source_tier": promotion.source_tier.value,
        "target_tier": promotion.target_tier.value,
        "file": _shown(promotion.target_file),
        "forced": promotion.forced,
        "dry_run": dry_run,
        "written": written,
        "written_through_symlink": str(written_through(promotion) or "") or None,
        "changes": [{"field": c.field, "from": c.before, "to": c.after} for c in promotion.changes],
        "kept": list(KEPT_SECTIONS),
        "kept_differences": list(promotion.kept_differences),
        "notes": list(promotion.notes),
    }
