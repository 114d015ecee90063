"""``{% cluster_status cluster %}`` and ``{% cluster_flags flags %}``: as the overview's rows
show them (``cachemetrics.markup``)."""

from django import template

from cachemetrics.markup import flags_html, status_html

register = template.Library()
register.simple_tag(status_html, name="cluster_status")
register.simple_tag(flags_html, name="cluster_flags")
