"""Status badges in the colours Flower users already read: grey waiting, blue working, green
done, red failed, yellow stopped short. One mapping for tuning runs and sizes, DAX clusters,
collections and share links."""

from django import template
from django.utils.html import format_html

register = template.Library()

# Keys are lower case: the tuning statuses are upper case, the cache statuses lower case.
STATUS_CLASSES = {
    "pending": "pending",
    "published": "pending",  # a size's version exists; its invocations have not started
    "expired": "pending",
    "running": "running",
    "creating": "running",
    "modifying": "running",
    "succeeded": "succeeded",
    "available": "succeeded",
    "live": "succeeded",
    "active": "succeeded",
    "failed": "failed",
    "vanished": "failed",
    "revoked": "failed",
    "cancelled": "warning",
    "partial": "warning",
}


@register.filter
def status_class(status) -> str:
    """The badge's CSS class; anything unknown (e.g. a DAX cluster "deleting") is grey."""
    return STATUS_CLASSES.get(str(status).lower(), "pending")


@register.simple_tag
def status_badge(status, label=None, title="") -> str:
    """The badge's HTML, written here rather than by an inclusion template: a run's page shows
    a dozen badges and the cache overview a hundred rows of them."""
    return format_html(
        '<span class="badge {}" data-status="{}"{}>{}</span>',
        status_class(status),
        status,
        format_html(' title="{}"', title) if title else "",
        status if label is None else label,
    )
