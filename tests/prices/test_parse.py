"""aws.pricelist.parse on PriceList entries as AWS sends them (JSON strings)."""

import json
from datetime import date
from decimal import Decimal

from aws.pricelist import parse


def entry(service, region, usagetype, dimensions, family="Serverless", terms="OnDemand", **attrs):
    sku = "SKU" + usagetype.replace(":", "").replace("-", "")[:10].upper()
    return json.dumps(
        {
            "product": {
                "productFamily": family,
                "attributes": {"regionCode": region, "usagetype": usagetype, **attrs},
                "sku": sku,
            },
            "serviceCode": service,
            "terms": {
                terms: {
                    f"{sku}.JRTCKXETXF": {
                        "effectiveDate": "2026-10-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "sku": sku,
                        "termAttributes": {},
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.{i}": {
                                "unit": unit,
                                "beginRange": begin,
                                "endRange": end,
                                "pricePerUnit": {"USD": usd},
                                "description": "",
                                "appliesTo": [],
                            }
                            for i, (begin, end, usd, unit) in enumerate(dimensions)
                        },
                    }
                }
            },
            "version": "20261001000000",
            "publicationDate": "2026-10-01T00:00:00Z",
        }
    )


LAMBDA_TIERS = [
    ("0", "6000000000", "0.0000166667000", "Lambda-GB-Second"),
    ("6000000000", "15000000000", "0.0000150000000", "Lambda-GB-Second"),
    ("15000000000", "Inf", "0.0000133334000", "Lambda-GB-Second"),
]


def test_lambda_duration_tiers_of_a_prefixed_region():
    records = parse(
        "AWSLambda", [entry("AWSLambda", "eu-west-2", "EUW2-Lambda-GB-Second", LAMBDA_TIERS)]
    )
    assert [(r.item, r.variant, r.region) for r in records] == [
        ("duration", "x86_64", "eu-west-2")
    ] * 3
    assert [(r.begin_range, r.end_range, r.usd) for r in records] == [
        (Decimal(0), Decimal(6_000_000_000), Decimal("0.0000166667")),
        (Decimal(6_000_000_000), Decimal(15_000_000_000), Decimal("0.000015")),
        (Decimal(15_000_000_000), None, Decimal("0.0000133334")),
    ]
    assert records[0].effective_date == date(2026, 10, 1)
    assert records[0].usagetype == "EUW2-Lambda-GB-Second"


def test_arm_requests_storage_and_snapstart_restore():
    price_list = [
        entry("AWSLambda", "us-east-1", usage, [("0", "Inf", usd, unit)])
        for usage, usd, unit in [
            ("Request-ARM", "0.0000002", "Requests"),
            ("Lambda-Storage-GB-Second", "0.0000000309", "GB-Seconds"),
            ("Lambda-SnapStart-Restored-GB", "0.0001397998", "GB"),
            ("Lambda-GB-Second-ARM", "0.0000133334", "Lambda-GB-Second"),
        ]
    ]
    records = {(r.item, r.variant): r.usd for r in parse("AWSLambda", price_list)}
    assert records == {
        ("request", "arm64"): Decimal("0.0000002"),
        ("ephemeral_storage", "x86_64"): Decimal("0.0000000309"),
        ("snapstart_restore", "x86_64"): Decimal("0.0001397998"),
        ("duration", "arm64"): Decimal("0.0000133334"),
    }


def test_usage_types_we_do_not_use_and_non_on_demand_terms_are_skipped():
    price_list = [
        entry(
            "AWSLambda",
            "eu-west-1",
            "EU-Lambda-Provisioned-GB-Second",
            [("0", "Inf", "0.0000097222", "GB-s")],
        ),
        entry("AWSLambda", "eu-west-1", "EU-Lambda-GB-Second", LAMBDA_TIERS, terms="Reserved"),
        entry("AWSLambda", "eu-west-1", "EU-Request", [("0", "Inf", "not a number", "Requests")]),
        "{not json",
        json.dumps({"product": {}}),
    ]
    assert parse("AWSLambda", price_list) == []


def test_dax_node_hours_per_node_type():
    records = parse(
        "AmazonDAX",
        [
            entry(
                "AmazonDAX",
                "eu-west-3",
                "EUW3-NodeUsage:dax.t3.small",
                [("0", "Inf", "0.0460000000", "Hrs")],
                family="DAX",
                instanceType="t3.small",
            ),
            entry(
                "AmazonDAX",
                "us-east-1",
                "NodeUsage:dax.r5.large",
                [("0", "Inf", "0.2690000000", "Hrs")],
                family="DAX",
            ),
        ],
    )
    assert [(r.region, r.item, r.variant, r.usd) for r in records] == [
        ("eu-west-3", "node_hour", "dax.t3.small", Decimal("0.046")),
        ("us-east-1", "node_hour", "dax.r5.large", Decimal("0.269")),
    ]


def test_dynamodb_reads_keep_the_free_tier_and_the_paid_tier():
    records = parse(
        "AmazonDynamoDB",
        [
            entry(
                "AmazonDynamoDB",
                "ap-southeast-2",
                "APS2-ReadCapacityUnit-Hrs",
                [
                    ("0", "18600", "0.0000000000", "ReadCapacityUnit-Hrs"),
                    ("18600", "Inf", "0.000164", "ReadCapacityUnit-Hrs"),
                ],
                family="Provisioned IOPS",
            ),
            entry(
                "AmazonDynamoDB",
                "ap-southeast-2",
                "APS2-ReadRequestUnits",
                [("0", "Inf", "0.0000001565", "ReadRequestUnits")],
                family="Amazon DynamoDB PayPerRequest Throughput",
            ),
            entry(
                "AmazonDynamoDB",
                "ap-southeast-2",
                "APS2-IA-ReadRequestUnits",
                [("0", "Inf", "0.0000002", "ReadRequestUnits")],
            ),
        ],
    )
    assert [(r.item, r.begin_range, r.usd) for r in records] == [
        ("rcu_hour", Decimal(0), Decimal(0)),
        ("rcu_hour", Decimal(18600), Decimal("0.000164")),
        ("read_request_unit", Decimal(0), Decimal("0.0000001565")),
    ]


def test_a_standard_infrequent_access_read_in_us_east_1_is_not_taken_for_a_standard_one():
    price_list = [
        entry(
            "AmazonDynamoDB",
            "us-east-1",
            "IA-ReadRequestUnits",
            [("0", "Inf", "0.000000155", "ReadRequestUnits")],
        )
    ]
    assert parse("AmazonDynamoDB", price_list) == []
