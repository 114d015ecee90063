"""Fetch every service's prices from the AWS Price List and store them; the one place a
refresh happens (the daily task, ``manage.py refresh_prices`` and the prices page call it).

Each service is fetched whole before anything is written; a service whose fetch fails or
comes back empty keeps its last good prices, and the refresh is marked failed with the reason
(shown on /prices/ and logged)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from aws import pricelist
from aws.errors import AwsError
from prices.models import Price, PriceRefresh, RefreshStatus

log = logging.getLogger(__name__)


def _store(service: str, records, now) -> int:
    rows = {}
    for r in records:  # one row per tier: a duplicate product keeps its latest price
        key = (r.region, r.item, r.variant, r.begin_range)
        if key not in rows or rows[key].effective_date <= r.effective_date:
            rows[key] = r
    with transaction.atomic():
        Price.objects.filter(service=service).delete()
        Price.objects.bulk_create(
            Price(
                service=service,
                region=r.region,
                item=r.item,
                variant=r.variant,
                begin_range=r.begin_range,
                end_range=r.end_range,
                usd=r.usd,
                unit=r.unit,
                usagetype=r.usagetype,
                sku=r.sku,
                effective_date=r.effective_date,
                fetched_at=now,
            )
            for r in rows.values()
        )
    return len(rows)


def refresh_prices(trigger: str = "daily", user=None, client=None) -> PriceRefresh:
    """Fetch and store; never raises for an AWS problem (the returned row says what failed)."""
    attempt = PriceRefresh.objects.create(trigger=trigger, requested_by=user)
    counts, problems = {}, []
    for service in pricelist.SERVICE_CODES:
        try:
            records = pricelist.fetch(service, client)
            if not records:
                problems.append(f"{service}: the Price List answered no prices we use")
                continue
            counts[service] = _store(service, records, timezone.now())
        except AwsError as exc:
            problems.append(f"{service}: {exc}")
        except IntegrityError:  # another refresh stored this service at the same moment
            problems.append(f"{service}: another refresh was storing prices at the same time")
        except Exception as exc:  # a bug must not leave the refresh "running" for ever
            log.exception("price refresh of %s failed", service)
            problems.append(f"{service}: unexpected {type(exc).__name__}: {exc}")
    attempt.counts = counts
    attempt.error = "\n".join(problems)
    attempt.status = RefreshStatus.FAILED if problems else RefreshStatus.SUCCEEDED
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["counts", "error", "status", "finished_at"])
    if problems:
        log.warning("price refresh failed, last good prices kept: %s", "; ".join(problems))
    else:
        log.info("prices refreshed: %s", counts)
    return attempt
