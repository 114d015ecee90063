from celery import shared_task

from prices.refresh import refresh_prices


@shared_task(acks_late=True)  # idempotent: a second refresh stores the same prices
def refresh_prices_task(trigger: str = "daily") -> dict:
    """Daily (queue ``maintenance``) and on demand: see prices/refresh.py."""
    attempt = refresh_prices(trigger)
    return {"status": attempt.status, "counts": attempt.counts, "error": attempt.error}
