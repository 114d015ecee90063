"""``{% plotly_template %}``: the theme's template, once, on pages whose figures carry none."""

from django import template

from dashboard.plotly_theme import template_script

register = template.Library()
register.simple_tag(template_script, name="plotly_template")
