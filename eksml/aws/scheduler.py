"""Runs work items in dependency order, independent ones side by side.

Generic over anything with a `name` and `depends_on`: the stacks use it for plan, apply and destroy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, TypeVar


class Node(Protocol):
    name: str
    depends_on: tuple[str, ...]


N = TypeVar("N", bound=Node)
R = TypeVar("R")


def in_dependency_order(
    nodes: Sequence[N],
    run_one: Callable[[N, dict[str, R]], R],
    *,
    reverse: bool = False,
    side_by_side: bool = True,
    all_at_once: bool = False,
    guard: Callable[[], AbstractContextManager] = nullcontext,
) -> dict[str, R]:
    """Run every node once the nodes it depends on are done (reverse: once its dependants are done).

    Independent nodes run side by side, each in its own thread. After a failure nothing new starts;
    the nodes already running finish, then the first error is raised. `run_one` gets the results so
    far (every node it waits for is in them). `all_at_once`: no node waits for another. `guard` is
    entered around the threads (the terraform signal relay: signals reach the main thread only).
    """
    names = {node.name for node in nodes}
    if all_at_once:
        waits_for: dict[str, set[str]] = {n.name: set() for n in nodes}
    elif reverse:
        waits_for = {n.name: {m.name for m in nodes if n.name in m.depends_on} for n in nodes}
    else:
        waits_for = {n.name: set(n.depends_on) & names for n in nodes}
    pending = list(reversed(nodes)) if reverse else list(nodes)
    results: dict[str, R] = {}
    if not side_by_side:
        for node in pending:
            results[node.name] = run_one(node, dict(results))
        return results

    failure: BaseException | None = None
    running: dict[Future, N] = {}
    with guard(), ThreadPoolExecutor(max_workers=max(len(nodes), 1), thread_name_prefix="stack") as pool:
        while pending or running:
            ready = [node for node in pending if waits_for[node.name] <= results.keys()] if failure is None else []
            for node in ready:
                pending.remove(node)
                running[pool.submit(run_one, node, dict(results))] = node
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                node = running.pop(future)
                try:
                    results[node.name] = future.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others finish
                    failure = failure or exc
    if failure is not None:
        raise failure
    return results
