"""Hit ratios on the cache pages: coloured against the cluster's threshold, and the break-even
ratio turned into the share of the node cost that reads could cover."""

from django import template

from cachemetrics.markup import ratio_class

register = template.Library()
register.filter("ratio_class", ratio_class)


@register.filter
def reciprocal(value):
    if value in (None, "") or float(value) == 0:
        return None
    return 1 / float(value)
