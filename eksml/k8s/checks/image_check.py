"""At prod, every image is pinned: a digest, or a tag naming a release. Refused: no tag (which pulls
`latest`), `latest`, and tags that move by design (branch and channel names, or no version number
at all), since two nodes could then run different code under the same manifest."""

from __future__ import annotations

import re
from typing import Optional, Sequence

from eksml.errors import Issue
from eksml.k8s.checks.images import images_of
from eksml.k8s.checks.object_checks import Placed

MOVING_TAGS = frozenset({"latest", "main", "master", "stable", "edge", "nightly", "dev", "develop", "head",
                         "canary", "current", "release", "rolling", "unstable", "testing"})


def mutable_tag(reference: str) -> Optional[str]:
    """Why `reference` can change under the same name, or None when it is pinned."""
    if "@sha256:" in reference:
        return None
    last = reference.rsplit("/", 1)[-1]
    if ":" not in last:
        return "it has no tag, so it pulls latest"
    tag = last.split(":", 1)[1]
    if tag.lower() in MOVING_TAGS or tag.lower().startswith("latest"):
        return f"tag {tag} moves to each new build"
    if not re.search(r"\d", tag):
        return f"tag {tag} names no version"
    return None


def image_issues(objects: Sequence[Placed]) -> list[Issue]:
    issues = []
    for placed in objects:
        for image in images_of(placed.release, [placed.obj]):
            why = mutable_tag(image.reference)
            if why:
                issues.append(placed.issue("", (
                    f"{image.used_by} runs image {image.reference}, which is not pinned ({why}); at prod pin a "
                    "release tag or a digest")))
    return issues
