"""What the tuning app announces to whoever listens (notifications), without knowing them."""

from django.dispatch import Signal

#: A run reached a final status (SUCCEEDED, FAILED or CANCELLED); sent once, by the one
#: transition that won. Receivers get ``run`` and must not fail the caller (send_robust).
run_finished = Signal()


def announce_finished(run) -> None:
    run_finished.send_robust(sender=type(run), run=run)
