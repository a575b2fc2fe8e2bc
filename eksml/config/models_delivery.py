"""How releases reach the cluster: `delivery: helm` (eksml installs them) or `gitops` (eksml installs
Argo CD and writes an app-of-apps a user commits; Argo CD syncs it). Shape only; rules_serving.py
checks that gitops mode names its repository."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, StrictBool, field_validator


class GitOps(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    repo_url: str  # the Git repository the rendered folder (`eksml render ENV --gitops OUT`) is committed to
    path: str = "gitops"  # folder of OUT inside that repository
    revision: str = "main"
    prune: StrictBool = True  # delete what was removed from Git
    self_heal: StrictBool = True  # undo changes made to the cluster outside Git (drift)

    @field_validator("repo_url")
    @classmethod
    def _git_url(cls, url: str) -> str:
        if not re.match(r"^(https://[^/\s]+/\S+|ssh://\S+|git@[^:\s]+:\S+)$", url):
            raise ValueError(f"'{url}' is not a Git repository URL: use https://host/org/repo.git or git@host:org/repo.git")
        return url

    @field_validator("path")
    @classmethod
    def _relative(cls, path: str) -> str:
        if path.startswith("/") or ".." in path.split("/") or not re.match(r"^[A-Za-z0-9._/-]+$", path):
            raise ValueError(f"'{path}' must be a relative folder inside the repository (letters, digits, . _ - /)")
        return path
