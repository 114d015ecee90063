"""Temporary, until tuning.views switches to dashboard.templatetags.units: then delete this
package."""

from dashboard.templatetags.units import format_ms, format_seconds, format_usd  # noqa: F401
