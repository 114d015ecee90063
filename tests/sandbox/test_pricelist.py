"""The sandbox's Price List Query API, through an unmodified boto3 ``pricing`` client."""

import json

import pytest
from botocore.exceptions import ClientError

REGION_FILTER = {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-2"}


@pytest.fixture
def pricing(sandbox):
    return sandbox.client("pricing", retries={"total_max_attempts": 1})


def products(answer):
    return [json.loads(entry) for entry in answer["PriceList"]]


def test_get_products_answers_price_list_json_strings_for_the_region(pricing):
    answer = pricing.get_products(ServiceCode="AWSLambda", Filters=[REGION_FILTER])
    assert answer["FormatVersion"] == "aws_v1"
    assert all(isinstance(entry, str) for entry in answer["PriceList"])
    by_usage = {p["product"]["attributes"]["usagetype"]: p for p in products(answer)}
    assert {p["product"]["attributes"]["regionCode"] for p in by_usage.values()} == {"eu-west-2"}
    duration = by_usage["EUW2-Lambda-GB-Second"]
    assert duration["product"]["productFamily"] == "Serverless"
    assert duration["serviceCode"] == "AWSLambda"
    (term,) = duration["terms"]["OnDemand"].values()
    assert term["effectiveDate"].startswith("2026-11-01")
    tiers = sorted(
        (d["beginRange"], d["endRange"], d["pricePerUnit"]["USD"])
        for d in term["priceDimensions"].values()
    )
    assert ("0", "6000000000", "0.0000166667") in tiers
    assert ("15000000000", "Inf", "0.0000133334") in tiers
    assert "EUW2-Lambda-GB-Second-ARM" in by_usage
    assert "EUW2-Lambda-SnapStart-Restored-GB" in by_usage


def test_filters_must_all_match(pricing):
    answer = pricing.get_products(
        ServiceCode="AmazonDAX",
        Filters=[
            REGION_FILTER,
            {"Type": "TERM_MATCH", "Field": "usagetype", "Value": "EUW2-NodeUsage:dax.r5.large"},
        ],
    )
    (product,) = products(answer)
    assert product["product"]["attributes"]["instanceType"] == "r5.large"


def test_a_region_without_prices_answers_an_empty_list(pricing):
    answer = pricing.get_products(
        ServiceCode="AWSLambda",
        Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-south-1"}],
    )
    assert answer["PriceList"] == []
    assert "NextToken" not in answer


def test_the_paginator_walks_every_page(pricing):
    whole = products(pricing.get_products(ServiceCode="AWSLambda", MaxResults=100))
    pages = list(
        pricing.get_paginator("get_products").paginate(
            ServiceCode="AWSLambda", PaginationConfig={"PageSize": 3}
        )
    )
    assert len(pages) > 3
    assert all(len(page["PriceList"]) <= 3 for page in pages)
    walked = [json.loads(e) for page in pages for e in page["PriceList"]]
    assert [p["product"]["sku"] for p in walked] == [p["product"]["sku"] for p in whole]
    assert len({p["product"]["attributes"]["regionCode"] for p in walked}) == 4


def test_a_forged_next_token_is_refused(pricing):
    with pytest.raises(ClientError) as caught:
        pricing.get_products(ServiceCode="AWSLambda", NextToken="bm90LWEtdG9rZW4=")
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_an_unknown_service_code_is_not_found(pricing):
    with pytest.raises(ClientError) as caught:
        pricing.get_products(ServiceCode="AmazonNothing")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_an_unsupported_filter_type_is_a_clear_error(pricing):
    with pytest.raises(ClientError) as caught:
        pricing.get_products(
            ServiceCode="AWSLambda",
            Filters=[{"Type": "CONTAINS", "Field": "regionCode", "Value": "eu"}],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "TERM_MATCH" in caught.value.response["Error"]["Message"]


def test_describe_services_and_attribute_values(pricing):
    services = pricing.describe_services(ServiceCode="AmazonDynamoDB")["Services"]
    assert services[0]["ServiceCode"] == "AmazonDynamoDB"
    assert "regionCode" in services[0]["AttributeNames"]
    values = pricing.get_attribute_values(ServiceCode="AWSLambda", AttributeName="regionCode")
    assert [v["Value"] for v in values["AttributeValues"]] == [
        "ap-southeast-2",
        "eu-west-1",
        "eu-west-2",
        "us-east-1",
    ]


def test_a_fault_rule_fails_get_products_with_a_pricing_error(sandbox, pricing):
    sandbox.inject_fault("GetProducts", error="ServiceException")
    with pytest.raises(ClientError) as caught:
        pricing.get_products(ServiceCode="AWSLambda")
    assert caught.value.response["Error"]["Code"] == "InternalErrorException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert pricing.get_products(ServiceCode="AWSLambda")["PriceList"]


def test_a_price_override_changes_the_answer_until_cleared(sandbox, pricing):
    sandbox.set_price("AWSLambda", "eu-west-2", "Lambda-GB-Second", "0.0000199999")
    answer = pricing.get_products(
        ServiceCode="AWSLambda",
        Filters=[
            REGION_FILTER,
            {"Type": "TERM_MATCH", "Field": "usagetype", "Value": "EUW2-Lambda-GB-Second"},
        ],
    )
    (product,) = products(answer)
    (term,) = product["terms"]["OnDemand"].values()
    assert {d["pricePerUnit"]["USD"] for d in term["priceDimensions"].values()} == {"0.0000199999"}
    sandbox.clear_prices()
    (product,) = products(
        pricing.get_products(
            ServiceCode="AWSLambda",
            Filters=[
                REGION_FILTER,
                {"Type": "TERM_MATCH", "Field": "usagetype", "Value": "EUW2-Lambda-GB-Second"},
            ],
        )
    )
    (term,) = product["terms"]["OnDemand"].values()
    assert "0.0000199999" not in {
        d["pricePerUnit"]["USD"] for d in term["priceDimensions"].values()
    }
