"""Numbers with units, as every page shows them: "$0.00000208", "1,234 ms", "81.2 %", "12.3 k".

Each filter is a plain ``format_*`` function first, so views, charts and modules print the
same text as the templates. Missing values print as a dash.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()
DASH = "–"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def format_usd(value, significant: int = 3) -> str:
    """Dollars: cents from $1, otherwise `significant` significant digits, never exponents.

    Lambda costs a few millionths of a dollar per call: "$1.23e-05" would hide that.
    """
    amount = _decimal(value)
    if amount is None:
        return DASH
    if amount == 0:
        return "$0"
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    places = max(2, -amount.adjusted() + int(significant) - 1)
    return f"{sign}${amount:.{places}f}"


def format_signed_usd(value) -> str:
    """A saving or a loss: "+$12.00", "−$3.50"."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    return ("+" if amount >= 0 else "") + format_usd(amount)


def format_usd_per_million(value) -> str:
    amount = _decimal(value)
    return DASH if amount is None else format_usd(amount * 1_000_000)


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


def format_seconds(value) -> str:
    """A wait or run time: "4.2 s", "42 s", "3 min 05 s", "2 h 10 min"."""
    if value is None or value == "":
        return DASH
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_ttl(milliseconds) -> str:
    """A DAX cache TTL: whole minutes as "5 min", otherwise seconds."""
    if milliseconds is None or milliseconds == "":
        return "unknown"
    seconds = int(milliseconds) / 1000
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def format_mb(value) -> str:
    return DASH if value is None or value == "" else f"{int(value):,} MB"


def format_sizes_mb(values) -> str:
    """Memory sizes of a sweep: "128, 512, 1024 MB"."""
    return ", ".join(str(v) for v in values) + " MB" if values else DASH


def format_percent(value, digits: int = 1) -> str:
    """A value already in percent: 42.123 -> "42.1 %"."""
    number = _decimal(value)
    return DASH if number is None else f"{float(number):.{int(digits)}f} %"


def format_pct(ratio, digits: int = 1) -> str:
    """A ratio as a percentage: 0.8123 -> "81.2 %"."""
    number = _decimal(ratio)
    return DASH if number is None else format_percent(number * 100, digits)


def format_count(value) -> str:
    """Request counts, short: 12345 -> "12.3 k"."""
    number = _decimal(value)
    if number is None:
        return DASH
    number = float(number)
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return f"{number:,.0f}"


def format_bytes(value) -> str:
    """Binary units, as DAX reports memory: 1536 -> "1.5 KiB"."""
    number = _decimal(value)
    if number is None:
        return DASH
    number = float(number)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(number) < 1024:
            return f"{number:,.0f} B" if unit == "B" else f"{number:,.1f} {unit}"
        number /= 1024
    return f"{number:,.1f} TiB"


def format_elapsed(run) -> str:
    """Run time of a run: finished − started, or so far."""
    if not getattr(run, "started_at", None):
        return DASH
    end = run.finished_at or timezone.now()
    return format_seconds(max(end - run.started_at, timedelta(0)).total_seconds())


register.filter("usd", format_usd)
register.filter("signed_usd", format_signed_usd)
register.filter("usd_per_million", format_usd_per_million)
register.filter("ms", format_ms)
register.filter("seconds", format_seconds)
register.filter("ttl", format_ttl)
register.filter("mb", format_mb)
register.filter("sizes_mb", format_sizes_mb)
register.filter("percent", format_percent)
register.filter("pct", format_pct)
register.filter("count", format_count)
register.filter("bytes", format_bytes)
register.filter("elapsed", format_elapsed)
