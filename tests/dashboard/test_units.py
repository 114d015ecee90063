"""The unit filters every page shares: one text per number, never an exponent."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from dashboard.templatetags.units import (
    format_bytes,
    format_count,
    format_mb,
    format_ms,
    format_pct,
    format_percent,
    format_seconds,
    format_signed_usd,
    format_sizes_mb,
    format_ttl,
    format_usd,
    format_usd_per_million,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.0000123"), "$0.0000123"),  # once printed "$1.23e-05" on the cache pages
        (1.23e-05, "$0.0000123"),
        (Decimal("0.00000208"), "$0.00000208"),
        (Decimal("0.000000833334"), "$0.000000833"),
        (Decimal("1E-12"), "$0.00000000000100"),
        (0.5, "$0.500"),
        (0.123456, "$0.123"),
        (Decimal("1"), "$1.00"),
        (1234.567, "$1,234.57"),
        (Decimal("1E+3"), "$1,000.00"),
        (0, "$0"),
        (Decimal("-0.0000123"), "−$0.0000123"),
        (-3.5, "−$3.50"),
        (None, "–"),
        ("", "–"),
        ("not a number", "–"),
    ],
)
def test_usd_prints_cents_from_a_dollar_and_significant_digits_below_never_an_exponent(value, text):
    assert format_usd(value) == text


def test_usd_takes_the_number_of_significant_digits():
    assert format_usd(Decimal("0.000012345"), 2) == "$0.000012"
    assert format_usd(Decimal("0.000012345"), "5") == "$0.000012345"


def test_signed_usd_shows_gains_with_a_plus_and_losses_with_a_minus():
    assert format_signed_usd(12) == "+$12.00"
    assert format_signed_usd(-3.5) == "−$3.50"
    assert format_signed_usd(0) == "+$0"
    assert format_signed_usd(-0.00004) == "−$0.0000400"
    assert format_signed_usd(None) == "–"


def test_usd_per_million_scales_a_per_call_cost():
    assert format_usd_per_million(Decimal("0.00000208")) == "$2.08"
    assert format_usd_per_million(None) == "–"


def test_pct_turns_a_ratio_into_a_percentage_and_percent_keeps_one():
    assert format_pct(0.8123) == "81.2 %"
    assert format_pct(Decimal("0.5"), 0) == "50 %"
    assert format_pct(0) == "0.0 %"
    assert format_pct(None) == "–"
    assert format_percent(42.123) == "42.1 %"
    assert format_percent(42.5, 0) == "42 %"
    assert format_percent("") == "–"


def test_ms_keeps_about_three_significant_digits():
    assert format_ms(1.234) == "1.23 ms"
    assert format_ms(12.34) == "12.3 ms"
    assert format_ms(1234.5) == "1,234 ms"
    assert format_ms(None) == "–"


def test_seconds_grow_into_minutes_and_hours():
    assert format_seconds(4.24) == "4.2 s"
    assert format_seconds(42.4) == "42 s"
    assert format_seconds(185) == "3 min 05 s"
    assert format_seconds(7800) == "2 h 10 min"
    assert format_seconds(None) == "–"


def test_count_is_short_for_large_numbers():
    assert format_count(999) == "999"
    assert format_count(12345) == "12.3 k"
    assert format_count(4_500_000) == "4.5 M"
    assert format_count(2e9) == "2.0 G"
    assert format_count(None) == "–"


def test_memory_sizes_bytes_and_ttls():
    assert format_mb(10240) == "10,240 MB"
    assert format_mb(None) == "–"
    assert format_sizes_mb([128, 512, 1024]) == "128, 512, 1024 MB"
    assert format_sizes_mb([]) == "–"
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 2**40) == "3.0 TiB"
    assert format_ttl(300_000) == "5 min"
    assert format_ttl(1500) == "1.5 s"
    assert format_ttl(None) == "unknown"


def test_templates_use_the_same_functions_as_filters():
    template = Template(
        "{% load units %}{{ cost|usd }} {{ cost|usd:2 }} {{ net|signed_usd }} {{ ratio|pct }} "
        "{{ ratio|pct:0 }} {{ duration|ms }} {{ memory|mb }} {{ requests|count }}"
    )
    context = Context(
        {
            "cost": Decimal("0.0000123"),
            "net": -12,
            "ratio": 0.8123,
            "duration": 88.25,
            "memory": 1769,
            "requests": 12345,
        }
    )
    assert template.render(context) == (
        "$0.0000123 $0.000012 −$12.00 81.2 % 81 % 88.2 ms 1,769 MB 12.3 k"
    )
