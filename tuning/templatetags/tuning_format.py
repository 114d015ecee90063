"""Numbers with units, as every tuning page shows them: "$0.00000208", "1,234 ms", "512 MB"."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
DASH = "–"


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def format_usd(value, significant: int = 3) -> str:
    """Dollars: cents for $1+, otherwise `significant` significant digits, never exponents."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    if amount == 0:
        return "$0"
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    places = max(2, -amount.adjusted() + significant - 1)
    text = f"{amount:.{places}f}"
    return f"{sign}${text}"


def format_ms(value) -> str:
    number = _decimal(value)
    if number is None:
        return DASH
    number = float(number)
    if abs(number) < 10:
        return f"{number:,.2f} ms"
    if abs(number) < 100:
        return f"{number:,.1f} ms"
    return f"{number:,.0f} ms"


def format_seconds(seconds) -> str:
    if seconds is None:
        return DASH
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def usd(value, significant=3):
    return format_usd(value, int(significant))


@register.filter
def usd_per_million(value):
    amount = _decimal(value)
    return DASH if amount is None else format_usd(amount * 1_000_000, 3)


@register.filter
def ms(value):
    return format_ms(value)


@register.filter
def mb(value):
    return DASH if value in (None, "") else f"{int(value):,} MB"


@register.filter
def sizes_mb(values):
    return ", ".join(str(v) for v in values or []) + " MB" if values else DASH


@register.filter
def elapsed(run):
    """Run time of a run: finished − started, or so far."""
    if not getattr(run, "started_at", None):
        return DASH
    from django.utils import timezone

    end = run.finished_at or timezone.now()
    delta = end - run.started_at
    return format_seconds(max(delta, timedelta(0)).total_seconds())


@register.filter
def seconds(value):
    return format_seconds(value)


@register.filter
def percent(value, digits=0):
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{float(number):.{int(digits)}f} %"
