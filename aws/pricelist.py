"""The AWS Price List Query API (``pricing:GetProducts``): the on-demand prices Tuneboard uses.

:func:`fetch` pages through GetProducts for one service code and turns the answer into
:class:`PriceRecord` rows; :func:`parse` does the turning (pure, tested on recorded answers).

What we read, per region (AWS's usage types carry a region prefix outside us-east-1, e.g.
``EUW2-Lambda-GB-Second``):

* ``AWSLambda``: ``Lambda-GB-Second`` / ``-ARM`` (duration, tiered by monthly GB-seconds),
  ``Request`` / ``Request-ARM``, ``Lambda-Storage-GB-Second`` / ``-ARM`` (ephemeral storage
  above 512 MB), ``Lambda-SnapStart-Restored-GB`` / ``-ARM`` (SnapStart restore, per GB).
* ``AmazonDAX``: ``NodeUsage:dax.<type>`` (node-hour per node type).
* ``AmazonDynamoDB``: ``ReadRequestUnits`` (on-demand) and ``ReadCapacityUnit-Hrs``
  (provisioned; its first tier is the free tier at $0).

Only on-demand terms count; anything else in the answer is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from botocore.exceptions import BotoCoreError, ClientError

from aws import clients
from aws.errors import map_error
from aws.retry import Backoff, retrying

#: The Price List Query API has endpoints in these regions only; the prices cover every region.
API_REGIONS = ("us-east-1", "ap-south-1", "eu-central-1")
API_REGION = "us-east-1"
SERVICE_CODES = ("AWSLambda", "AmazonDAX", "AmazonDynamoDB")
#: Narrow each service's answer to the products we read (DynamoDB has thousands more).
SERVICE_FILTERS = {
    "AWSLambda": [{"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Serverless"}],
    "AmazonDAX": [{"Type": "TERM_MATCH", "Field": "productFamily", "Value": "DAX"}],
    "AmazonDynamoDB": [{"Type": "TERM_MATCH", "Field": "group", "Value": "DDB-ReadUnits"}],
}
#: A refresh is not urgent: a few quick retries, then the last good prices stay.
FETCH_BACKOFF = Backoff(attempts=3, base_s=0.5, cap_s=4.0)

#: Lambda usage type (without region prefix) -> (item, architecture)
LAMBDA_USAGE = {
    "Lambda-GB-Second": ("duration", "x86_64"),
    "Lambda-GB-Second-ARM": ("duration", "arm64"),
    "Request": ("request", "x86_64"),
    "Request-ARM": ("request", "arm64"),
    "Lambda-Storage-GB-Second": ("ephemeral_storage", "x86_64"),
    "Lambda-Storage-GB-Second-ARM": ("ephemeral_storage", "arm64"),
    "Lambda-SnapStart-Restored-GB": ("snapstart_restore", "x86_64"),
    "Lambda-SnapStart-Restored-GB-ARM": ("snapstart_restore", "arm64"),
}
DYNAMODB_USAGE = {
    "ReadRequestUnits": ("read_request_unit", ""),
    "ReadCapacityUnit-Hrs": ("rcu_hour", ""),
}
_DAX_NODE = re.compile(r"^NodeUsage:(dax\.[a-z0-9]+\.[a-z0-9]+)$")


@dataclass(frozen=True)
class PriceRecord:
    """One price tier of one product: ``usd`` per ``unit`` from ``begin_range`` (inclusive)
    to ``end_range`` (None: no end)."""

    service: str
    region: str
    item: str  # duration, request, ephemeral_storage, snapstart_restore, node_hour, ...
    variant: str  # architecture (Lambda), node type (DAX), "" (DynamoDB)
    begin_range: Decimal
    end_range: Decimal | None
    usd: Decimal
    unit: str
    effective_date: date
    usagetype: str
    sku: str


def _names(usagetype: str, region: str) -> list[str]:
    """The usage type without its region prefix: none in us-east-1 (where ``USE1-`` is
    tolerated; ``IA-ReadRequestUnits`` there is another product, not a prefixed one)."""
    if region == "us-east-1":
        return [usagetype.removeprefix("USE1-")]
    return [usagetype.partition("-")[2]]


def _classify(service: str, usagetype: str, region: str) -> tuple[str, str] | None:
    for name in _names(usagetype, region):
        if service == "AWSLambda" and name in LAMBDA_USAGE:
            return LAMBDA_USAGE[name]
        if service == "AmazonDynamoDB" and name in DYNAMODB_USAGE:
            return DYNAMODB_USAGE[name]
        if service == "AmazonDAX" and (match := _DAX_NODE.match(name)):
            return "node_hour", match[1]
    return None


def _decimal(text) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value >= 0 else None


def parse_product(service: str, product: dict) -> list[PriceRecord]:
    """The records of one decoded PriceList entry; [] for products we do not read."""
    try:
        attributes = product["product"]["attributes"]
        region = attributes["regionCode"]
        usagetype = attributes["usagetype"]
        sku = product["product"].get("sku", "")
        terms = product.get("terms", {}).get("OnDemand", {})
    except (KeyError, TypeError, AttributeError):
        return []
    kind = _classify(service, usagetype, region)
    if kind is None or not isinstance(terms, dict):
        return []
    item, variant = kind
    records = []
    for term in terms.values():
        try:
            effective = date.fromisoformat(term["effectiveDate"][:10])
            dimensions = term["priceDimensions"].values()
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        for dim in dimensions:
            usd = _decimal((dim.get("pricePerUnit") or {}).get("USD"))
            begin = _decimal(dim.get("beginRange", "0"))
            end_text = dim.get("endRange", "Inf")
            end = None if end_text in ("Inf", "", None) else _decimal(end_text)
            if usd is None or begin is None or (end is None and end_text not in ("Inf", "", None)):
                continue
            records.append(
                PriceRecord(
                    service, region, item, variant, begin, end, usd,
                    str(dim.get("unit", ""))[:32], effective, usagetype[:128], str(sku)[:32],
                )
            )  # fmt: skip
    return records


def parse(service: str, price_list: Iterable[str | dict]) -> list[PriceRecord]:
    """Records of a GetProducts ``PriceList`` (JSON strings, as AWS sends them, or decoded)."""
    records = []
    for entry in price_list:
        try:
            product = json.loads(entry) if isinstance(entry, str) else entry
        except ValueError:
            continue
        if isinstance(product, dict):
            records.extend(parse_product(service, product))
    return records


def _page(client, service: str, token: str | None) -> dict:
    params = {"ServiceCode": service, "Filters": SERVICE_FILTERS[service], "MaxResults": 100}
    if token:
        params["NextToken"] = token
    try:
        return client.get_products(**params)
    except (ClientError, BotoCoreError) as exc:
        raise map_error(exc, operation="pricing:GetProducts", resource=service) from exc


def price_list(service: str, client=None) -> Iterator[str]:
    """Every PriceList entry of ``service``, page after page (each page retried on its own)."""
    client = client or clients.client("pricing", API_REGION)
    token = None
    while True:
        answer = retrying(_page, client, service, token, backoff=FETCH_BACKOFF)
        yield from answer.get("PriceList", [])
        token = answer.get("NextToken")
        if not token:
            return


def fetch(service: str, client=None) -> list[PriceRecord]:
    """The records of one service code; raises aws.errors.AwsError when AWS cannot answer."""
    return parse(service, price_list(service, client))
