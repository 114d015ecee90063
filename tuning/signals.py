"""What the tuning app announces to whoever listens (notifications), without knowing them."""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

#: A run reached a final status (SUCCEEDED, FAILED or CANCELLED); sent once, by the one
#: transition that won. Receivers get ``run`` and must not fail the caller (send_robust).
run_finished = Signal()


def announce_finished(run) -> None:
    for receiver, result in run_finished.send_robust(sender=type(run), run=run):
        if isinstance(result, Exception):  # logged, never raised: the caller's work is done
            log.error("%s failed: %r", getattr(receiver, "__name__", receiver), result)
