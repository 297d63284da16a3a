"""Plans built to break the tool (issue 10): each builder writes one hostile .xlsx with code,
inside a real plan template and within every documented cap.

`BUILDERS` maps a name to `build(path)`. tests/test_hostile_limits.py runs every registered
plan through `validate`, `validate --format json`, `validate --annotate` and `merge` under a
memory and time limit, so a builder added here is covered by all four doors at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

BUILDERS: dict[str, Callable[[Path], None]] = {}


def hostile(name: str):
    """Register a builder under `name`."""
    def register(build: Callable[[Path], None]):
        BUILDERS[name] = build
        return build
    return register


# --- bounded work (items 1, 2) ---


# --- finite numbers and safe text (items 3, 5, 6) ---


# --- the sheet a person sees (item 4) ---
