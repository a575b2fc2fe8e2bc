"""`eksml plan ENV... --emulator`: several full previews in one process (the CDKTF AWS binding is
imported once), each environment against its own throwaway emulator.

One emulator per environment, not one shared: a preview writes stand-in states for the upstream
stacks it has planned, and two environments in one emulator could read each other's (a shared
state bucket name, a shared region). A fresh emulator costs about a second; a wrong plan costs more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eksml.aws.run import plan_environment
from eksml.aws.run_result import RunResult
from eksml.config.models import Environment
from eksml.aws.events import EventCallback


def preview_each(
    envs: Sequence[Environment],
    on_event_for: Callable[[Environment], EventCallback | None] = lambda env: None,
) -> list[RunResult]:
    """The preview plan of every environment, in the order given."""
    return [plan_environment(env, preview=True, on_event=on_event_for(env)) for env in envs]
