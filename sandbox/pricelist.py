"""A small AWS Price List Query API (``pricing``, JSON protocol, API version 2017-10-15).

moto has no Pricing service, so the sandbox answers the three read calls itself, on the
Lambda API's port (``AWS_ENDPOINT_URL_PRICING``): ``POST /`` with
``X-Amz-Target: AWSPriceListService.<Operation>``.

* ``GetProducts``: ``ServiceCode``, ``Filters`` (``TERM_MATCH`` and ``EQUALS`` on any product
  attribute, ``productFamily`` or ``sku``; every filter must match), ``MaxResults`` (1–100,
  default 100) and ``NextToken``. ``PriceList`` holds one JSON *string* per product, in AWS's
  documented shape: ``product`` {``productFamily``, ``attributes`` {``regionCode``,
  ``location``, ``group``, ``usagetype``, …}, ``sku``}, ``serviceCode``, ``terms.OnDemand``
  {term: {``effectiveDate``, ``priceDimensions`` {rate: {``beginRange``, ``endRange``,
  ``unit``, ``pricePerUnit`` {``USD``}}}}}, ``version``, ``publicationDate``.
* ``DescribeServices``: the service codes and their attribute names.
* ``GetAttributeValues``: the values of one attribute.

Errors are AWS's: ``InvalidParameterException``, ``NotFoundException``,
``InvalidNextTokenException`` (400), ``ThrottlingException`` (400), ``InternalErrorException``
(500), as ``{"__type", "Message"}``. Fault rules of ``sandbox.faults`` name these operations;
their Lambda error codes are answered as the Pricing equivalents (see ``FAULT_ERRORS``).

The data (``LAMBDA``, ``DAX``, ``DYNAMODB`` below) covers four regions only: us-east-1,
eu-west-1, eu-west-2 and ap-southeast-2 (ap-south-1 and ca-central-1 are absent on purpose, so
"no price known" can be tested). Usage types carry AWS's region prefix (none in us-east-1;
``EU-``, ``EUW2-``, ``APS2-``). Lambda duration, request and ephemeral-storage figures are
AWS's published us-east-1 list prices, repeated in every region; the SnapStart restore figure,
the DAX figures and other regions' DynamoDB figures are illustrative (not checked against
AWS). Only on-demand terms are served; the real API also returns reserved terms, free-tier
rows and many more usage types (provisioned concurrency, Lambda@Edge, writes, storage…).

Test control (not AWS): ``POST /_sandbox/pricelist`` with ``{"serviceCode", "regionCode",
"usagetype" (without prefix), "usd", "effectiveDate"?}`` overrides every tier of that product's
price; ``DELETE /_sandbox/pricelist`` clears the overrides.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading

PUBLISHED = "2026-11-01T00:00:00Z"
VERSION = "20261101000000"
ON_DEMAND = "JRTCKXETXF"  # AWS's offer term code of on-demand prices
INF = None  # endRange "Inf"

#: region -> (usage type prefix, location)
REGIONS = {
    "us-east-1": ("", "US East (N. Virginia)"),
    "eu-west-1": ("EU-", "EU (Ireland)"),
    "eu-west-2": ("EUW2-", "EU (London)"),
    "ap-southeast-2": ("APS2-", "Asia Pacific (Sydney)"),
}

_X86 = ((0, 6e9, "0.0000166667"), (6e9, 15e9, "0.0000150000"), (15e9, INF, "0.0000133334"))
_ARM = (
    (0, 7.5e9, "0.0000133334"),
    (7.5e9, 18.75e9, "0.0000120001"),
    (18.75e9, INF, "0.0000106667"),
)


def _flat(usd: str):
    return ((0, INF, usd),)


#: Lambda products, the same in every region above: (family, group, usagetype, unit, tiers)
LAMBDA = [
    ("Serverless", "AWS-Lambda-Duration", "Lambda-GB-Second", "Lambda-GB-Second", _X86),
    ("Serverless", "AWS-Lambda-Duration-ARM", "Lambda-GB-Second-ARM", "Lambda-GB-Second", _ARM),
    ("Serverless", "AWS-Lambda-Requests", "Request", "Requests", _flat("0.0000002")),
    ("Serverless", "AWS-Lambda-Requests-ARM", "Request-ARM", "Requests", _flat("0.0000002")),
    (
        "Serverless",
        "AWS-Lambda-Storage-Duration",
        "Lambda-Storage-GB-Second",
        "GB-Seconds",
        _flat("0.0000000309"),
    ),
    (
        "Serverless",
        "AWS-Lambda-Storage-Duration-ARM",
        "Lambda-Storage-GB-Second-ARM",
        "GB-Seconds",
        _flat("0.0000000309"),
    ),
    (
        "Serverless",
        "AWS-Lambda-SnapStart-Restored",
        "Lambda-SnapStart-Restored-GB",
        "GB",
        _flat("0.0001397998"),
    ),
]

#: DAX node-hour prices: region -> {node type: USD}
DAX = {
    "us-east-1": {"dax.t3.small": "0.04", "dax.t3.medium": "0.081", "dax.r5.large": "0.269"},
    "eu-west-1": {"dax.t3.small": "0.044", "dax.t3.medium": "0.089", "dax.r5.large": "0.296"},
    "eu-west-2": {"dax.t3.small": "0.046", "dax.t3.medium": "0.093", "dax.r5.large": "0.31"},
    "ap-southeast-2": {"dax.t3.small": "0.05", "dax.t3.medium": "0.1", "dax.r5.large": "0.34"},
}

#: DynamoDB read prices: region -> (USD per read request unit, USD per RCU-hour)
DYNAMODB = {
    "us-east-1": ("0.000000125", "0.00013"),
    "eu-west-1": ("0.0000001415", "0.000147"),
    "eu-west-2": ("0.0000001475", "0.000154"),
    "ap-southeast-2": ("0.0000001565", "0.000164"),
}

SERVICE_NAMES = {
    "AWSLambda": "AWS Lambda",
    "AmazonDAX": "Amazon DynamoDB Accelerator (DAX)",
    "AmazonDynamoDB": "Amazon DynamoDB",
}

#: Lambda fault codes -> the Pricing error a fault rule answers
FAULT_ERRORS = {
    "TooManyRequestsException": "ThrottlingException",
    "AccessDeniedException": "AccessDeniedException",
    "InvalidParameterValueException": "InvalidParameterException",
    "ResourceNotFoundException": "NotFoundException",
}
OPERATIONS = ("GetProducts", "DescribeServices", "GetAttributeValues")
_STATUS = {"InternalErrorException": 500, "ServiceUnavailableException": 503}


class PriceListError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = _STATUS.get(code, 400)

    def body(self) -> dict:
        return {"__type": self.code, "Message": self.message}


def _sku(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def _range(value) -> str:
    return "Inf" if value is None else str(int(value))


def _product(service, region, family, attributes, usagetype, unit, tiers, overrides) -> dict:
    prefix, location = REGIONS[region]
    sku = _sku(service, region, usagetype)
    override = overrides.get((service, region, usagetype))
    effective = (override or {}).get("effectiveDate") or PUBLISHED
    dimensions = {}
    for begin, end, usd in tiers:
        rate = f"{sku}.{ON_DEMAND}.{_sku(sku, str(begin))[:10]}"
        dimensions[rate] = {
            "unit": unit,
            "endRange": _range(end),
            "description": f"{SERVICE_NAMES[service]} {usagetype} - {location}",
            "appliesTo": [],
            "rateCode": rate,
            "beginRange": _range(begin),
            "pricePerUnit": {"USD": override["usd"] if override else usd},
        }
    return {
        "product": {
            "productFamily": family,
            "attributes": {
                "regionCode": region,
                "servicecode": service,
                "location": location,
                "locationType": "AWS Region",
                "usagetype": prefix + usagetype,
                "operation": "",
                "servicename": SERVICE_NAMES[service],
                **attributes,
            },
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                f"{sku}.{ON_DEMAND}": {
                    "priceDimensions": dimensions,
                    "sku": sku,
                    "effectiveDate": effective,
                    "offerTermCode": ON_DEMAND,
                    "termAttributes": {},
                }
            }
        },
        "version": VERSION,
        "publicationDate": PUBLISHED,
    }


def catalog(overrides: dict | None = None) -> dict[str, list[dict]]:
    """Every product the sandbox knows, per service code, in a stable order."""
    overrides = overrides or {}
    out: dict[str, list[dict]] = {code: [] for code in SERVICE_NAMES}
    for region in REGIONS:
        for family, group, usagetype, unit, tiers in LAMBDA:
            out["AWSLambda"].append(
                _product(
                    "AWSLambda", region, family, {"group": group}, usagetype, unit, tiers, overrides
                )
            )
        for node_type, usd in DAX[region].items():
            attributes = {"instanceType": node_type.removeprefix("dax."), "group": "DAX"}
            out["AmazonDAX"].append(
                _product(
                    "AmazonDAX",
                    region,
                    "DAX",
                    attributes,
                    f"NodeUsage:{node_type}",
                    "Hrs",
                    _flat(usd),
                    overrides,
                )
            )
        rru, rcu_hour = DYNAMODB[region]
        out["AmazonDynamoDB"].append(
            _product(
                "AmazonDynamoDB",
                region,
                "Amazon DynamoDB PayPerRequest Throughput",
                {"group": "DDB-ReadUnits", "groupDescription": "DynamoDB PayPerRequest Read Units"},
                "ReadRequestUnits",
                "ReadRequestUnits",
                _flat(rru),
                overrides,
            )
        )
        out["AmazonDynamoDB"].append(
            _product(
                "AmazonDynamoDB",
                region,
                "Provisioned IOPS",
                {"group": "DDB-ReadUnits", "groupDescription": "DynamoDB Provisioned Read Units"},
                "ReadCapacityUnit-Hrs",
                "ReadCapacityUnit-Hrs",
                ((0, 18600, "0.0000000000"), (18600, INF, rcu_hour)),
                overrides,
            )
        )
    return out


def _matches(product: dict, filters: list) -> bool:
    info = product["product"]
    fields = {**info["attributes"], "productFamily": info["productFamily"], "sku": info["sku"]}
    return all(fields.get(f["Field"]) == f["Value"] for f in filters)


def _check_filters(filters) -> list:
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise PriceListError("InvalidParameterException", "Filters must be a list")
    for f in filters:
        if not isinstance(f, dict) or not {"Type", "Field", "Value"} <= set(f):
            raise PriceListError(
                "InvalidParameterException", "Each filter needs Type, Field and Value"
            )
        if f["Type"] not in ("TERM_MATCH", "EQUALS"):
            raise PriceListError(
                "InvalidParameterException",
                f"Invalid filter type {f['Type']!r}: this sandbox supports TERM_MATCH and EQUALS",
            )
    return filters


def _max_results(body: dict) -> int:
    value = body.get("MaxResults", 100)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise PriceListError(
            "InvalidParameterException", "MaxResults must be an integer between 1 and 100"
        )
    return value


def _token(query: dict, offset: int) -> str:
    key = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": key}).encode()).decode()


def _offset(query: dict, token) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset = int(data["o"])
        same = data["q"] == json.loads(base64.urlsafe_b64decode(_token(query, 0)))["q"]
    except (ValueError, KeyError, TypeError):
        same = False
        offset = -1
    if not same or offset < 0:
        raise PriceListError("InvalidNextTokenException", "The pagination token is invalid.")
    return offset


def _page(items: list, body: dict, query: dict) -> tuple[list, str | None]:
    size = _max_results(body)
    start = _offset(query, body.get("NextToken"))
    page = items[start : start + size]
    more = start + size < len(items)
    return page, (_token(query, start + size) if more else None)


class PriceListApi:
    """Answers ``AWSPriceListService.*`` requests from the tables above (plus overrides)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._overrides: dict[tuple[str, str, str], dict] = {}

    def _catalog(self) -> dict[str, list[dict]]:
        with self._lock:
            overrides = dict(self._overrides)
        return catalog(overrides)

    def handle(self, target: str, body_bytes: bytes) -> tuple[int, dict]:
        """(status, JSON body) for one request; errors in AWS's JSON shape."""
        operation = target.partition(".")[2]
        try:
            try:
                body = json.loads(body_bytes or b"{}")
            except ValueError as exc:
                raise PriceListError("SerializationException", f"Bad JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise PriceListError("SerializationException", "Expected a JSON object")
            handler = {
                "GetProducts": self.get_products,
                "DescribeServices": self.describe_services,
                "GetAttributeValues": self.get_attribute_values,
            }.get(operation)
            if handler is None:
                raise PriceListError("UnknownOperationException", f"Unknown operation {target}")
            return 200, handler(body)
        except PriceListError as exc:
            return exc.status, exc.body()

    def _service(self, body: dict) -> list[dict]:
        code = body.get("ServiceCode")
        if not isinstance(code, str) or not code:
            raise PriceListError("InvalidParameterException", "ServiceCode is required")
        products = self._catalog().get(code)
        if products is None:
            raise PriceListError("NotFoundException", f"Service code {code} not found")
        return products

    def get_products(self, body: dict) -> dict:
        products = self._service(body)
        filters = _check_filters(body.get("Filters"))
        query = {"ServiceCode": body["ServiceCode"], "Filters": filters}
        chosen = [p for p in products if _matches(p, filters)]
        page, token = _page(chosen, body, query)
        answer = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in page]}
        if token:
            answer["NextToken"] = token
        return answer

    def describe_services(self, body: dict) -> dict:
        code = body.get("ServiceCode")
        catalog_ = self._catalog()
        codes = [code] if code else sorted(catalog_)
        if code and code not in catalog_:
            raise PriceListError("NotFoundException", f"Service code {code} not found")
        services = [
            {
                "ServiceCode": c,
                "AttributeNames": sorted(
                    {k for p in catalog_[c] for k in p["product"]["attributes"]}
                ),
            }
            for c in codes
        ]
        page, token = _page(services, body, {"DescribeServices": code})
        answer = {"FormatVersion": "aws_v1", "Services": page}
        if token:
            answer["NextToken"] = token
        return answer

    def get_attribute_values(self, body: dict) -> dict:
        products = self._service(body)
        name = body.get("AttributeName")
        if not isinstance(name, str) or not name:
            raise PriceListError("InvalidParameterException", "AttributeName is required")
        values = sorted(
            {
                p["product"]["attributes"][name]
                for p in products
                if name in p["product"]["attributes"]
            }
        )
        if not values:
            raise PriceListError(
                "NotFoundException", f"Attribute {name} not found for {body['ServiceCode']}"
            )
        page, token = _page(
            [{"Value": v} for v in values], body, {"s": body["ServiceCode"], "a": name}
        )
        answer = {"AttributeValues": page}
        if token:
            answer["NextToken"] = token
        return answer

    # ------------------------------------------------------------ test control

    def set_override(self, spec: dict) -> dict:
        """Override one product's price (every tier); ValueError says what is wrong."""
        service, region, usagetype = (
            spec.get("serviceCode"),
            spec.get("regionCode"),
            spec.get("usagetype"),
        )
        if service not in SERVICE_NAMES or region not in REGIONS or not usagetype:
            raise ValueError(
                f"serviceCode must be one of {sorted(SERVICE_NAMES)}, regionCode one of "
                f"{sorted(REGIONS)}, usagetype a usage type without region prefix"
            )
        usd = str(spec.get("usd", ""))
        try:
            float(usd)
        except ValueError:
            raise ValueError(f"usd must be a number, got {usd!r}") from None
        override = {"usd": usd, "effectiveDate": spec.get("effectiveDate")}
        with self._lock:
            self._overrides[(service, region, usagetype)] = override
        return {"serviceCode": service, "regionCode": region, "usagetype": usagetype, **override}

    def clear_overrides(self) -> int:
        with self._lock:
            count = len(self._overrides)
            self._overrides.clear()
            return count
