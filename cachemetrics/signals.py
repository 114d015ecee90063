"""What the cache metrics app announces to whoever listens (notifications)."""

from django.dispatch import Signal

#: A collection of one (account, region) ended; receivers get ``collection`` and must not fail
#: the collector (send_robust).
collection_finished = Signal()


def announce_collection(collection) -> None:
    collection_finished.send_robust(sender=type(collection), collection=collection)
