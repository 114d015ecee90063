"""tuning.pricing: invocation and monthly Lambda costs in Decimal dollars.

Expected figures are worked out by hand in the comments. The AWS Lambda
pricing page rounds its duration rate to $0.00001667 in its worked examples;
the billed rate is $0.0000166667, so our exact figures differ from the page's
by less than one cent, and each test says how.
"""

import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from tuning import pricing, pricing_data
from tuning.pricing import (
    UnknownRegion,
    invocation_cost,
    monthly_cost,
    price_per_gb_second,
    request_price,
)

CENT = Decimal("0.01")


# ----------------------------------------------------------------- AWS worked examples


def test_it_reproduces_the_pricing_page_classic_512_mb_example():
    """AWS Lambda pricing page, classic "Example 1" (US East, x86):

    512 MB, 3 M requests a month, 1 s each. The page: compute $18.34 after the
    400,000 GB-s free tier, requests $0.40, total $18.74.
    """
    # GB-s: 3,000,000 * 1 s * 512/1024 = 1,500,000; minus 400,000 free = 1,100,000
    # compute: 1,100,000 * 0.0000166667 = 18.33337
    #   (the page multiplies by its rounded $0.00001667: 18.337 -> "$18.34")
    # requests: (3,000,000 - 1,000,000) * 0.0000002 = 0.40
    # total: 18.33337 + 0.40 = 18.73337
    total = monthly_cost(512, 1000, 3_000_000)

    assert total == Decimal("18.73337")
    assert abs(total - Decimal("18.74")) < CENT
    assert Decimal(1_100_000) * Decimal("0.00001667") == Decimal("18.337")  # the page's rounding


def test_it_reproduces_the_pricing_page_classic_128_mb_example():
    """AWS Lambda pricing page, classic "Example 2" (US East, x86):

    128 MB, 30 M requests a month, 200 ms each. The page: compute $5.83,
    requests $5.80, total $11.63.
    """
    # GB-s: 30,000,000 * 0.2 s * 128/1024 = 750,000; minus 400,000 free = 350,000
    # compute: 350,000 * 0.0000166667 = 5.833345 (page, with 0.00001667: 5.8345 -> 5.83)
    # requests: 29,000,000 * 0.0000002 = 5.80
    # total: 11.633345 -> $11.63 as on the page
    total = monthly_cost(128, 200, 30_000_000)

    assert total == Decimal("11.633345")
    assert total.quantize(CENT) == Decimal("11.63")


def test_it_applies_the_x86_tiers_to_the_tiered_pricing_blog_scenario():
    """AWS Compute Blog, "Introducing tiered pricing for AWS Lambda" (Aug 2022):

    x86, 2048 MB, 60 s average duration, 75 M invocations a month = 9 billion
    GB-s, 3 billion past the 6 billion GB-s first tier.
    """
    # GB-s: 75,000,000 * 60 s * 2048/1024 = 9,000,000,000; minus 400,000 free
    #   = 8,999,600,000
    # tier 1: 6,000,000,000 * 0.0000166667 = 100,000.20
    # tier 2: 2,999,600,000 * 0.0000150000 =  44,994.00
    # requests: 74,000,000 * 0.0000002     =      14.80
    # total: 145,009.00
    assert monthly_cost(2048, 60_000, 75_000_000) == Decimal("145009.00")


def test_it_applies_all_three_x86_tiers_without_the_free_tier():
    # 10,240 MB (10 GB) * 1 s * 2,000,000,000 invocations = 20,000,000,000 GB-s
    # tier 1: 6,000,000,000 * 0.0000166667 = 100,000.20
    # tier 2: 9,000,000,000 * 0.0000150000 = 135,000.00
    # tier 3: 5,000,000,000 * 0.0000133334 =  66,667.00
    # requests: 2,000,000,000 * 0.0000002  =     400.00
    # total: 302,067.20
    total = monthly_cost(10240, 1000, 2_000_000_000, free_tier=False)

    assert total == Decimal("302067.20")


def test_it_prices_the_classic_example_on_arm64():
    """The classic 512 MB / 3 M / 1 s example on Arm (Graviton) in US East."""
    # compute: 1,100,000 GB-s * 0.0000133334 = 14.66674
    # requests: 2,000,000 * 0.0000002 = 0.40
    # total: 15.06674
    assert monthly_cost(512, 1000, 3_000_000, architecture="arm64") == Decimal("15.06674")


def test_arm64_tiers_start_at_seven_and_a_half_billion_gb_seconds():
    """Arm tiers per the tiered-pricing blog post: 7.5 bn and 18.75 bn GB-s."""
    # 10 GB * 1 s * 1,000,000,000 = 10,000,000,000 GB-s, no free tier
    # tier 1: 7,500,000,000 * 0.0000133334 = 100,000.50
    # tier 2: 2,500,000,000 * 0.0000120001 =  30,000.25
    # requests: 1,000,000,000 * 0.0000002  =     200.00
    # total: 130,200.75
    total = monthly_cost(10240, 1000, 1_000_000_000, architecture="arm64", free_tier=False)

    assert total == Decimal("130200.75")


def test_usage_inside_the_free_tier_costs_nothing():
    # 128 MB * 0.1 s * 1,000,000 = 12,500 GB-s < 400,000; 1 M requests are free
    assert monthly_cost(128, 100, 1_000_000) == 0


def test_the_free_tier_can_be_left_out():
    # 12,500 GB-s * 0.0000166667 = 0.20833375; 1,000,000 * 0.0000002 = 0.20
    assert monthly_cost(128, 100, 1_000_000, free_tier=False) == Decimal("0.40833375")


def test_monthly_cost_charges_extra_ephemeral_storage_without_free_tier():
    # 1,000,000 invocations of 1 s with 1,536 MB storage: (1536 - 512)/1024 = 1 GB extra
    # storage: 1 GB * 1,000,000 s * 0.0000000309 = 0.0309
    # compute: 128 MB -> 125,000 GB-s, inside the free tier; requests free
    assert monthly_cost(128, 1000, 1_000_000, ephemeral_storage_mb=1536) == Decimal("0.0309")


# ----------------------------------------------------------------- one invocation


def test_invocation_cost_is_duration_plus_the_request_fee():
    # 128/1024 GB * 0.1 s = 0.0125 GB-s * 0.0000166667 = 0.00000020833375
    # + request 0.0000002 = 0.00000040833375
    assert invocation_cost(128, 100) == Decimal("0.00000040833375")


def test_invocation_cost_uses_the_arm64_price():
    # 1 GB * 1 s * 0.0000133334 + 0.0000002 = 0.0000135334
    assert invocation_cost(1024, 1000, architecture="arm64") == Decimal("0.0000135334")


def test_invocation_cost_adds_ephemeral_storage_above_512_mb():
    # compute: 1 GB * 1 s * 0.0000166667 = 0.0000166667; request 0.0000002
    # storage: (10240 - 512)/1024 = 9.5 GB * 1 s * 0.0000000309 = 0.00000029355
    # total: 0.00001716025
    cost = invocation_cost(1024, 1000, ephemeral_storage_mb=10240)

    assert cost == Decimal("0.00001716025")


def test_invocation_cost_accepts_a_float_billed_duration_exactly():
    # 1 GB * 0.0015 s * 0.0000166667 = 0.00000002500005; + 0.0000002 = 0.00000022500005
    assert invocation_cost(1024, 1.5) == Decimal("0.00000022500005")


def test_invocation_cost_returns_a_decimal():
    assert isinstance(invocation_cost(512, 250), Decimal)
    assert isinstance(monthly_cost(512, 250, 10), Decimal)


def test_ephemeral_storage_below_lambdas_minimum_is_rejected():
    with pytest.raises(ValueError):
        invocation_cost(128, 100, ephemeral_storage_mb=256)


def test_negative_durations_are_rejected():
    with pytest.raises(ValueError):
        invocation_cost(128, -1)


# ----------------------------------------------------------------- prices, regions


def test_price_lookups_return_the_us_east_first_tier_prices():
    assert price_per_gb_second("x86_64", "us-east-1") == Decimal("0.0000166667")
    assert price_per_gb_second("arm64", "us-east-1") == Decimal("0.0000133334")
    assert request_price("us-east-1") == Decimal("0.0000002")


def test_an_unknown_region_raises_unknown_region_listing_the_known_ones():
    with pytest.raises(UnknownRegion) as raised:
        invocation_cost(128, 100, region="mars-north-1")

    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert "'mars-north-1'" in message
    assert "us-east-1" in message
    assert "eu-central-1" in message


def test_every_price_lookup_refuses_an_unknown_region():
    for lookup in (
        lambda: price_per_gb_second("x86_64", "xx-nowhere-9"),
        lambda: request_price("xx-nowhere-9"),
        lambda: monthly_cost(128, 100, 10, region="xx-nowhere-9"),
    ):
        with pytest.raises(UnknownRegion):
            lookup()


def test_an_unknown_architecture_is_a_value_error_naming_the_valid_ones():
    with pytest.raises(ValueError) as raised:
        invocation_cost(128, 100, architecture="x86")

    assert "x86_64" in str(raised.value)
    assert "arm64" in str(raised.value)


def test_the_price_table_covers_the_regions_users_run_in():
    for region in (
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-1",
        "ap-northeast-1",
        "sa-east-1",
    ):
        assert price_per_gb_second("x86_64", region) > 0
        assert request_price(region) > 0


def test_every_region_has_falling_tier_prices_and_cheaper_arm():
    for region, prices in pricing_data.REGIONS.items():
        for architecture in pricing.ARCHITECTURES:
            first, second, third = prices[architecture]
            assert first > second > third, (region, architecture)
        assert prices["arm64"][0] < prices["x86_64"][0], region


def test_the_price_table_names_its_source_and_date():
    assert "aws.amazon.com/lambda/pricing" in pricing_data.PRICES_SOURCE
    assert date.fromisoformat(pricing_data.PRICES_AS_OF) >= date(2026, 1, 1)


def test_the_pure_library_imports_neither_django_nor_boto3():
    code = (
        "import sys, tuning.reports, tuning.analysis, tuning.pricing, tuning.pricing_data; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('django', 'boto3', 'botocore')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
