"""Status badges in the colours Flower users already read: grey waiting, blue working, green
done, red failed, yellow stopped short. One mapping for tuning runs and sizes, DAX clusters,
collections and share links."""

from django import template

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


@register.inclusion_tag("dashboard/_status_badge.html")
def status_badge(status, label=None, title=""):
    return {
        "status": status,
        "css_class": status_class(status),
        "label": status if label is None else label,
        "title": title,
    }
