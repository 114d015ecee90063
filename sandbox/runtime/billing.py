"""Lambda billed duration (on-demand, rules in force since 1 Aug 2025).

Since 1 August 2025 the INIT phase is billed for every on-demand function, so a
cold start bills ``duration + init duration``; both are rounded up together to
the next whole millisecond, with a 1 ms minimum.

A SnapStart environment is restored, not initialised: its Billed Duration is the
handler's duration alone and the restore is billed on its own line (Billed Restore
Duration: loading the runtime and after-restore hooks, not the snapshot restore).
"""

from __future__ import annotations

import math


def billed_duration_ms(duration_ms: float, init_ms: float | None = None) -> int:
    """Billed milliseconds for an invocation; ``init_ms`` is given only on a cold start."""
    total = max(0.0, float(duration_ms)) + max(0.0, float(init_ms or 0.0))
    # Round away float noise first so that 102.0000000001 bills 102, not 103.
    return max(1, math.ceil(round(total, 6)))


def billed_restore_ms(runtime_ms: float) -> int:
    """Billed Restore Duration: the runtime's start, rounded up to whole ms (at least 1)."""
    return max(1, math.ceil(round(max(0.0, float(runtime_ms)), 6)))
