"""The prices page: what the AWS Price List gave, per region, and a refresh for staff."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from prices import lookup
from prices.tasks import refresh_prices_task


def can_refresh(user) -> bool:
    return user.is_staff or user.has_perm("prices.add_pricerefresh")


@require_GET
def price_list(request):
    return render(
        request,
        "prices/price_list.html",
        {
            "prices": lookup.overview(),
            "last": lookup.last_refresh(),
            "last_good": lookup.last_good_refresh(),
            "can_refresh": can_refresh(request.user),
        },
    )


@require_POST
def refresh(request):
    if not can_refresh(request.user):
        raise PermissionDenied("Refreshing prices needs staff status or the prices permission.")
    user_id = request.user.pk
    transaction.on_commit(lambda: refresh_prices_task.delay("web", user_id))
    messages.success(
        request,
        "Price refresh queued: this page shows its outcome once a worker has fetched the "
        "AWS Price List (usually within a minute).",
    )
    return redirect("prices:price_list")
