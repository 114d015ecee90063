"""Hit ratios on the cache pages: coloured against the cluster's threshold, and the break-even
ratio turned into the share of the node cost that reads could cover."""

from django import template

register = template.Library()


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
