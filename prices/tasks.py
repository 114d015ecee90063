from celery import shared_task
from django.contrib.auth import get_user_model

from prices.refresh import refresh_prices


@shared_task(acks_late=True)  # idempotent: a second refresh stores the same prices
def refresh_prices_task(trigger: str = "daily", user_id: int | None = None) -> dict:
    """Daily (queue ``maintenance``) and on demand: see prices/refresh.py."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    attempt = refresh_prices(trigger, user)
    return {"status": attempt.status, "counts": attempt.counts, "error": attempt.error}
