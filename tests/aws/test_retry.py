"""The one retry helper: transient errors are retried with capped, jittered backoff."""

import pytest

from aws.errors import PermanentAwsError, TransientAwsError
from aws.retry import Backoff, retrying


def failing(times: int, kind=TransientAwsError):
    """A call that raises ``kind`` ``times`` times, then answers; it records its arguments."""
    calls = []

    def call(*args, **kwargs):
        calls.append((args, kwargs))
        if len(calls) <= times:
            raise kind("busy")
        return "done"

    return call, calls


def test_it_retries_transient_errors_and_passes_the_arguments_through():
    call, calls = failing(3)
    slept, seen = [], []

    answer = retrying(
        call, "fn", 7, memory_mb=512, sleep=slept.append, on_retry=lambda e, n: seen.append(n)
    )

    assert answer == "done"
    assert calls == [(("fn", 7), {"memory_mb": 512})] * 4
    assert seen == [0, 1, 2] and len(slept) == 3


def test_it_never_retries_a_permanent_error():
    call, calls = failing(1, PermanentAwsError)
    slept = []

    with pytest.raises(PermanentAwsError):
        retrying(call, sleep=slept.append)
    assert len(calls) == 1 and slept == []


def test_it_stops_after_the_attempts_and_reraises_the_last_error():
    call, calls = failing(10)
    slept = []

    with pytest.raises(TransientAwsError):
        retrying(call, backoff=Backoff(attempts=3), sleep=slept.append)
    assert len(calls) == 3 and len(slept) == 2


def test_delays_grow_with_jitter_and_never_exceed_the_cap():
    backoff = Backoff(attempts=20, base_s=1.0, cap_s=3.0)

    for _ in range(50):
        assert 0.5 <= backoff.delay(0) <= 1.0
        assert 1.0 <= backoff.delay(1) <= 2.0
        assert all(1.5 <= backoff.delay(n) <= 3.0 for n in range(2, 20))


def test_the_waits_are_the_backoffs_delays():
    call, _ = failing(4)
    slept = []

    retrying(call, backoff=Backoff(attempts=5, base_s=1.0, cap_s=3.0), sleep=slept.append)

    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0
    assert 1.5 <= slept[2] <= 3.0 and 1.5 <= slept[3] <= 3.0
