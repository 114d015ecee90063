from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def exact_usd(value) -> str:
    """A list price as AWS states it, every digit kept: "$0.0000166667" (– when unknown)."""
    if value is None:
        return "–"
    return "$" + format(Decimal(value).normalize(), "f")


@register.filter
def per_million(value):
    return None if value is None else Decimal(value) * 1_000_000
