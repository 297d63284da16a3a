"""Every rule, and their checks registered with pandera so the compiled schemas stay
declarative: `pa.Check.<check name>(**params)`.

Each check is vectorized over a whole frame (one row per cell, per measure or per service,
possibly of many plans at once) and returns True where the data passes. Pandera costs a fixed
~0.3 ms per check and far more per failing check, so there are few of them and each yields one
finding code. The rules live by family; the frames they run on are built in frames.py.
"""

from __future__ import annotations

import inspect

from pandera import extensions

from . import cell, plan, reporting, targets

# In this order the checks run and same-cell findings of one code are reported.
RULES = cell.RULES + targets.RULES + plan.RULES + reporting.RULES

_registered = False


def register() -> None:
    """Register the checks once (pandera keeps a global registry); a check's statistics are
    its keyword-only parameters."""
    global _registered
    if _registered:
        return
    _registered = True
    for fn in dict.fromkeys(rule.check for rule in RULES):
        statistics = [name for name, p in inspect.signature(fn).parameters.items()
                      if p.kind is p.KEYWORD_ONLY]
        extensions.register_check_method(statistics=statistics)(fn)
