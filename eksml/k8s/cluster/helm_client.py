"""pyhelm3's client, with eksml's post-renderer on `helm upgrade --install` of a release that has
patches (eksml/charts/post_render.py): pyhelm3 0.5.8 has no post-renderer argument, so the flags
are added to the command it builds. Render passes the same flags to `helm template`, so what the
checks saw is what installs.

A release's patches are named, by digest, in its revision's description: a change to them alone
(the same chart and values) is an upgrade too.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from eksml.charts.post_render import patches_text, plugin_folder
from eksml.charts.template import post_render_flags
from eksml.k8s.model.records import RenderedComponent

_DESCRIPTION = "eksml post-render"


def patch_description(component: RenderedComponent) -> Optional[str]:
    """The revision description that records the patches installed; None without patches."""
    if not component.patches:
        return None
    digest = hashlib.sha256(patches_text(component.patches).encode()).hexdigest()[:16]
    return f"{_DESCRIPTION} {digest}"


def patches_changed(component: RenderedComponent, current: Any) -> bool:
    """True when the deployed revision was installed with other patches (or none) than these."""
    wanted = patch_description(component)
    return wanted is not None and getattr(current, "description", None) != wanted


def helm_client(helm: str, kubeconfig: Optional[Path], context: Optional[str],
                components: Sequence[RenderedComponent], scratch: Optional[Path]):
    """A pyhelm3 Client whose upgrades of patched releases (`components`) run through the post-renderer,
    whose plugin and patch files live under `scratch` for the client's life."""
    from pyhelm3 import Client, Command

    patched = [c for c in components if c.patches]
    if patched and scratch is None:
        raise ValueError("patched releases need a scratch folder for the post-renderer's files")
    flags: dict[str, list[str]] = {}

    class PostRenderingCommand(Command):
        async def run(self, command: list[Any], input: Optional[bytes] = None) -> bytes:
            if command[:1] == ["upgrade"] and len(command) > 1 and command[1] in flags:
                command = [*command, *flags[command[1]]]
            return await super().run(command, input)

    command = PostRenderingCommand(executable=helm, kubeconfig=kubeconfig, kubecontext=context)
    client = Client(command=command, executable=helm)  # refuses a helm that does not run, first
    flags.update({c.name: post_render_flags(scratch, c.patches, Path(helm), c.name) for c in patched})
    if flags:  # pyhelm3 starts helm with this process's environment (helm_plugins_restored)
        os.environ["HELM_PLUGINS"] = str(plugin_folder(scratch))
    return client


@contextmanager
def helm_plugins_restored() -> Iterator[None]:
    """HELM_PLUGINS as it was before, once the install's helm calls are done."""
    before = os.environ.get("HELM_PLUGINS")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HELM_PLUGINS", None)
        else:
            os.environ["HELM_PLUGINS"] = before
