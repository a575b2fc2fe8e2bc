"""Whether a mix of MIG profiles can coexist on one GPU.

Summing sizes is not enough: 3g+3g+1g uses only 7 compute slices yet does not fit, because
each 3g claims a fixed half of the memory slots. So we search the real placement table.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional, Protocol, Sequence


class PlacedProfile(Protocol):
    """What placement needs of a MIG profile (`eksml.catalog.model.MigProfile` has it)."""

    name: str
    compute_slices: int
    memory_slices: int
    start_slots: tuple[int, ...]
    max_per_gpu: int


def find_placement(
    profiles: Sequence[PlacedProfile], compute_slices: int, memory_slots: int
) -> Optional[tuple[int, ...]]:
    """Start memory slot for each profile (same order as given), or None when no placement exists."""
    counts = Counter(p.name for p in profiles)
    if any(counts[p.name] > p.max_per_gpu for p in profiles):
        return None
    if sum(p.compute_slices for p in profiles) > compute_slices:
        return None

    # Widest and least flexible first: they have the fewest choices, so dead ends show up early.
    order = sorted(range(len(profiles)), key=lambda i: (-profiles[i].memory_slices, len(profiles[i].start_slots)))
    starts: list[Optional[int]] = [None] * len(profiles)
    used = [False] * memory_slots

    def place(depth: int) -> bool:
        if depth == len(order):
            return True
        index = order[depth]
        profile = profiles[index]
        for start in profile.start_slots:
            slots = range(start, start + profile.memory_slices)
            if slots.stop > memory_slots or any(used[s] for s in slots):
                continue
            for s in slots:
                used[s] = True
            starts[index] = start
            if place(depth + 1):
                return True
            for s in slots:
                used[s] = False
        return False

    return tuple(starts) if place(0) else None  # type: ignore[arg-type]
