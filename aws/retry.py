"""The one retry helper: call again on a TransientAwsError with jittered exponential backoff.

Botocore's own retries are off (aws.clients), so this is the only place an AWS call is
repeated — apart from an executor's Celery task, which retries a whole batch later."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from aws.errors import TransientAwsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    attempts: int = 10
    base_s: float = 0.1
    cap_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based): between half and all of
        ``base·2^attempt``, never above ``cap_s`` (jitter spreads retries of parallel calls)."""
        ceiling = min(self.cap_s, self.base_s * 2**attempt)
        return ceiling * (0.5 + random.random() / 2)


DEFAULT_BACKOFF = Backoff()


def retrying(
    call, *args, backoff: Backoff = DEFAULT_BACKOFF, sleep=time.sleep, on_retry=None, **kwargs
):
    """``call(*args, **kwargs)``, retrying TransientAwsError with backoff; re-raises the last
    one. ``on_retry(error, attempt)`` is told about each retry (e.g. to count them)."""
    attempt = 0
    while True:
        try:
            return call(*args, **kwargs)
        except TransientAwsError as exc:
            if attempt + 1 >= backoff.attempts:
                raise
            log.info("retrying %s after: %s", getattr(call, "__name__", call), exc)
            if on_retry is not None:
                on_retry(exc, attempt)
            sleep(backoff.delay(attempt))
            attempt += 1
