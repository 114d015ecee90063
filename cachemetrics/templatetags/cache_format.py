"""Numbers with units for the cache pages: ratios, dollars, counts, bytes."""

from django import template

register = template.Library()

DASH = "–"


@register.filter
def pct(ratio, digits=1):
    """0.8123 -> '81.2 %'; None -> '–'."""
    if ratio is None or ratio == "":
        return DASH
    return f"{float(ratio) * 100:.{int(digits)}f} %"


@register.filter
def usd(value):
    """Dollars: 2 decimals from $1, 4 significant digits below; negatives with a minus sign."""
    if value is None or value == "":
        return DASH
    value = float(value)
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value >= 1 or value == 0:
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:.4g}"


@register.filter
def signed_usd(value):
    if value is None or value == "":
        return DASH
    return ("+" if float(value) >= 0 else "") + usd(value)


@register.filter
def count(value):
    """12345 -> '12.3 k'."""
    if value is None or value == "":
        return DASH
    value = float(value)
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:,.0f}"


@register.filter
def bytes_(value):
    if value is None or value == "":
        return DASH
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return DASH


@register.filter
def percent_value(value):
    """A value already in percent: 42.123 -> '42.1 %'."""
    if value is None or value == "":
        return DASH
    return f"{float(value):.1f} %"


@register.filter
def ttl(ms):
    if ms is None or ms == "":
        return "unknown"
    seconds = int(ms) / 1000
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


@register.filter
def ratio_class(ratio, threshold=0.8):
    if ratio is None:
        return "muted"
    return "cm-good" if float(ratio) >= float(threshold) else "cm-bad"


@register.filter
def reciprocal(value):
    if value in (None, "") or float(value) == 0:
        return None
    return 1 / float(value)
