"""AWS Lambda on-demand prices by region (USD). Data only; ``tuning.pricing`` reads it.

Source: the AWS Lambda pricing page, https://aws.amazon.com/lambda/pricing/
(us-east-1 worked examples and the US East tier prices), and the AWS Compute
Blog post "Introducing tiered pricing for AWS Lambda" (August 2022) for the
tier boundaries (x86: 6 bn / 15 bn GB-s; Arm: 7.5 bn / 18.75 bn GB-s, applied
per architecture and region, in every commercial region except China).
Transcribed on ``PRICES_AS_OF``.

How sure each figure is:

* us-east-1: the worked examples on the pricing page (N. Virginia) and the
  AWS What's New post of 2022-08-04 (x86 tiers $0.0000166667 / $0.0000150000 /
  $0.0000133334, quoted for US East (Ohio)); Arm tiers $0.0000133334 /
  $0.0000120001 / $0.0000106667; requests $0.20 per million; ephemeral
  storage $0.0000000309 per GB-second.
* The other regions below carry the same duration prices as US East:
  AWS Lambda Power Tuning's region price map (template.yml, ``baseCosts``)
  lists as dearer only ap-east-1, af-south-1, me-south-1, eu-south-1,
  ap-northeast-3 and the China regions, and treats every other region,
  sa-east-1 included, at the US East price.
* Request price ($0.20 per million) outside US East and the ephemeral-storage
  price outside us-east-1 were NOT checked against the live regional table
  (it is rendered by JavaScript); they are the US East figures.
* af-south-1 and the other dearer regions are deliberately absent: their
  prices could not be verified, and an unknown region raises
  ``tuning.pricing.UnknownRegion`` rather than silently using a default.

Update this table when AWS changes prices, and move ``PRICES_AS_OF``.
"""

from decimal import Decimal

PRICES_SOURCE = (
    "AWS Lambda pricing page https://aws.amazon.com/lambda/pricing/ and AWS Compute Blog "
    "'Introducing tiered pricing for AWS Lambda' (2022-08); regional parity cross-checked "
    "against AWS Lambda Power Tuning's template.yml price map"
)
PRICES_AS_OF = "2026-11-26"

#: Monthly free tier, shared by x86_64 and arm64 (and by all regions).
FREE_TIER_GB_SECONDS = Decimal("400000")
FREE_TIER_REQUESTS = Decimal("1000000")

#: Ephemeral storage up to this size is included in the price.
FREE_EPHEMERAL_STORAGE_MB = 512

#: Upper bounds (cumulative GB-seconds per month) of the first two duration tiers;
#: the third tier is unbounded.
TIER_BOUNDS_GB_SECONDS = {
    "x86_64": (Decimal("6000000000"), Decimal("15000000000")),
    "arm64": (Decimal("7500000000"), Decimal("18750000000")),
}

_US_EAST_X86 = (Decimal("0.0000166667"), Decimal("0.0000150000"), Decimal("0.0000133334"))
_US_EAST_ARM = (Decimal("0.0000133334"), Decimal("0.0000120001"), Decimal("0.0000106667"))
_REQUEST_PER_MILLION = Decimal("0.20")
_EPHEMERAL_PER_GB_SECOND = Decimal("0.0000000309")

#: region -> prices. Duration prices per GB-second for the three monthly tiers,
#: request price per million requests, ephemeral storage per GB-second above 512 MB.
REGIONS = {
    "us-east-1": {
        "name": "US East (N. Virginia)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "us-east-2": {
        "name": "US East (Ohio)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "us-west-2": {
        "name": "US West (Oregon)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "eu-west-1": {
        "name": "Europe (Ireland)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "eu-central-1": {
        "name": "Europe (Frankfurt)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "ap-southeast-1": {
        "name": "Asia Pacific (Singapore)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "ap-northeast-1": {
        "name": "Asia Pacific (Tokyo)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
    "sa-east-1": {
        "name": "South America (Sao Paulo)",
        "x86_64": _US_EAST_X86,
        "arm64": _US_EAST_ARM,
        "request_per_million": _REQUEST_PER_MILLION,
        "ephemeral_storage_gb_second": _EPHEMERAL_PER_GB_SECOND,
    },
}

#: SnapStart restore (Python and .NET runtimes), per GB of memory restored: each new execution
#: environment restored from a snapshot is charged memory (GB) × this, on top of its Billed
#: Restore Duration, which is billed at the duration price like any other duration
#: (AWS's "Monitoring for Lambda SnapStart": duration charges apply to the time the runtime
#: takes to load and to runtime hooks; AWS Lambda Power Tuning adds Billed Restore Duration
#: to Billed Duration). Source: the AWS Lambda pricing page, SnapStart section, US East
#: (N. Virginia): "$0.0001397998 for every GB restored". Used for every region of this table,
#: like the other US East figures above. The snapshot cache ($0.0000015046 per GB-second
#: while a SnapStart version exists) is not part of an invocation's cost and is left out.
SNAPSTART_RESTORE_PER_GB = Decimal("0.0001397998")
