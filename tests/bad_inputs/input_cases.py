"""Hostile command-line and file inputs beside the environment files: each with its exit code and message.

An overlay case writes files into a copy of helm_values/ (`files`: relative path -> bytes, or a
callable that builds the entry); `expect` is a fragment the error must hold. Every case runs through
the real CLI (tests/test_bad_inputs.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

Entry = Union[bytes, Callable[[Path], None]]

ALIAS_BOMB = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode() for i in range(9))


def _directory(path: Path) -> None:
    path.mkdir()


def _device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.yaml")


@dataclass(frozen=True)
class OverlayCase:
    files: dict[str, Entry]
    expect: str
    env: str = "dev"
    code: int = 2


OVERLAYS = {
    "not_utf8": OverlayCase({"dev/karpenter.yaml": b"logLevel: \xff\xfe debug\n"}, "is not UTF-8"),
    "deep_nesting": OverlayCase({"karpenter.yaml": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"}, "nested deeper"),
    "alias_bomb": OverlayCase({"dev/karpenter.yaml": ALIAS_BOMB}, "anchors and aliases are not allowed"),
    "duplicate_keys": OverlayCase({"dev/karpenter.yaml": b"logLevel: debug\nlogLevel: info\n"}, "written twice"),
    "huge_file": OverlayCase({"dev/karpenter.yaml": b"a: " + b"x" * (2 * 1024 * 1024) + b"\n"}, "larger than"),
    "not_a_mapping": OverlayCase({"dev/karpenter.yaml": b"- a\n- b\n"}, "must be a YAML mapping"),
    "broken_for_disabled": OverlayCase({"dev/argocd.yaml": b"server: [unclosed\n"}, "not valid YAML"),
    "component_without_chart": OverlayCase({"dev/access.yaml": b"a: 1\n"}, "has no Helm chart"),
    "yml_extension": OverlayCase({"dev/karpenter.yml": b"logLevel: debug\n"}, "rename it to karpenter.yaml"),
    "unknown_component": OverlayCase({"dev/karpentr.yaml": b"logLevel: debug\n"}, "no component named 'karpentr'"),
    "directory": OverlayCase({"dev/karpenter.yaml": _directory}, "is a folder"),
    "device_symlink": OverlayCase({"dev/karpenter.yaml": _device_link}, "is a device"),
    "fifo": OverlayCase({"karpenter.yaml": _fifo}, "is a FIFO"),
    "dangling_symlink": OverlayCase({"dev/karpenter.yaml": _dangling}, "dangling"),
    "unknown_env_folder": OverlayCase({"devv/karpenter.yaml": b"logLevel: debug\n"}, "named after an environment"),
    "control_character_name": OverlayCase({"dev/kar\x1b[2Jpenter.yaml": b"a: 1\n"}, "kar\\x1b[2Jpenter"),
    "gitops_path_too": OverlayCase({"staging/karpenter.yaml": b"logLevel: debug\nlogLevel: info\n"}, "written twice",
                                   env="staging"),
}


@dataclass(frozen=True)
class FolderCase:
    """A folder holding a user's files before `render`; every one must be byte-identical afterwards."""

    user_files: dict[str, bytes]
    gitops: bool = False
    expect: str = "eksml did not write"
    cwd_out: bool = False  # --out . from inside the folder


FOLDERS = {
    "user_notes_in_out": FolderCase({"notes.txt": b"mine\n"}),
    "out_dot_overwrites_readme": FolderCase({"README.md": b"# my project\n", "Makefile": b"all:\n"}, cwd_out=True,
                                            expect="would be overwritten (README.md)"),
    "another_teams_applications": FolderCase({"apps/team-b.yaml": b"kind: Application\n",
                                              "objects/team-b/pre/x.yaml": b"kind: ConfigMap\n"}, gitops=True),
    "forged_manifest": FolderCase({".eksml-files": b"../outside.txt\nnotes.txt\n", "keep.txt": b"x\n"},
                                  expect="keep.txt"),
}

PROMOTE_TARGETS = {
    # name -> (how the target is made in the folder, expected fragment)
    "fifo": ("fifo", "named pipe"),
    "missing": ("missing", "no such environment file"),
    "dangling": ("dangling", "does not exist"),
    "loop": ("loop", "symbolic link loop"),
    "read_only": ("read_only", "is read-only"),
    "control_characters": ("control", "\\x1b"),
}

LOCK_IDS = {
    "flag": ("-help", "not a lock ID"),
    "flag_after_dashes": ("--force", "not a lock ID"),
    "empty": ("", "is empty"),
    "huge": ("a" * 5000, "5000 characters"),
    "almost_uuid": ("2b2b2c7a-8b5c-debc-7ec0-23f93884b8d", "not a lock ID"),
    "newline": ("2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8\n", "not a lock ID"),
}

ARGUMENTS = {
    # argv -> (exit code, fragment in the output)
    "bare_scheme_endpoint": (("synth", "dev", "--emulator-endpoint", "http://"), 2, "names no host"),
    "port_out_of_range": (("port-forward", "dev", "mlflow", "--local-port", "70000"), 2, "1<=x<=65535"),
    "port_zero": (("port-forward", "dev", "mlflow", "--local-port", "0"), 2, "1<=x<=65535"),
    "catalog_unknown_json": (("catalog", "NOPE\x1b[31m", "--output", "json"), 2, '"ok": false'),
}

# name -> (variables, argv, exit code, fragment); "{file}" in a value is replaced by a regular file's path.
# The CDKTF app case runs `python -m eksml.aws.app` (what cdktf.json starts), not the eksml CLI.
ENVIRONMENT_VARIABLES = {
    "chart_mirror_not_a_url": ({"EKSML_CHART_MIRROR": "notaurl"}, ("render", "dev", "--out", "{out}"), 2,
                               "EKSML_CHART_MIRROR"),
    "chart_mirror_ftp": ({"EKSML_CHART_MIRROR": "ftp://mirror.example/"}, ("outdated", "dev"), 2,
                         "not a chart repository URL"),
    "work_dir_is_a_file": ({"EKSML_WORK_DIR": "{file}"}, ("render", "dev", "--out", "{out}"), 2,
                           "EKSML_WORK_DIR"),
    "today_not_a_date": ({"EKSML_TODAY": "yesterday"}, ("outdated", "dev"), 2, "YYYY-MM-DD"),
    "app_endpoint_without_host": ({"EKSML_EMULATOR_ENDPOINT": "http://", "EKSML_ENV": "dev"}, ("app",), 2,
                                  "names no host"),
    "app_env_outside_the_folder": ({"EKSML_ENV": "../../etc/passwd"}, ("app",), 2, "environment"),
}
