"""What the cache metrics app announces to whoever listens (notifications)."""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

#: A collection of one (account, region) ended; receivers get ``collection`` and must not fail
#: the collector (send_robust).
collection_finished = Signal()


def announce_collection(collection) -> None:
    for receiver, result in collection_finished.send_robust(
        sender=type(collection), collection=collection
    ):
        if isinstance(result, Exception):  # logged, never raised: the caller's work is done
            log.error("%s failed: %r", getattr(receiver, "__name__", receiver), result)
