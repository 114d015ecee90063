"""The AWS regions where Lambda runs, from botocore's own endpoint data (no network call).

A sweep may run in any of them, priced or not (costs then show "price unknown", see
``tuning.costing``). Partitions: commercial AWS, AWS GovCloud (US) and AWS China, which
boto3 reaches with ordinary credentials; the isolated partitions (ISO, sovereign cloud)
are left out. A botocore upgrade brings new regions with it.
"""

from __future__ import annotations

import functools

import botocore.loaders

#: The partitions whose Lambda regions a sweep may name.
PARTITIONS = ("aws", "aws-us-gov", "aws-cn")
#: Lambda's name in that data (its API model's ``endpointPrefix``).
ENDPOINT_PREFIX = "lambda"


@functools.cache
def _regions() -> dict[str, tuple[str, str]]:
    """{region: (partition, description)} of every region where Lambda exists.

    Read straight from botocore's endpoint data, as ``Session.get_available_regions`` does,
    but without its first step, loading Lambda's whole API model (~0.1 s of every command
    that checks a region) only to learn that its endpoint prefix is "lambda".
    """
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {
        region: (partition["partition"], partition["regions"][region].get("description", ""))
        for partition in endpoints["partitions"]
        if partition["partition"] in PARTITIONS
        for region in partition["services"].get(ENDPOINT_PREFIX, {}).get("endpoints", {})
        if region in partition["regions"]  # not the global or FIPS endpoints
    }


def lambda_regions() -> tuple[str, ...]:
    """Every region a sweep may run in, sorted."""
    return tuple(sorted(_regions()))


def is_lambda_region(region: str) -> bool:
    return region in _regions()


def partition(region: str) -> str:
    """The ARN partition of a Lambda region ("aws", "aws-us-gov", "aws-cn")."""
    return _regions()[region][0]


def label(region: str) -> str:
    """ "eu-west-2 — Europe (London)"."""
    description = _regions().get(region, ("", ""))[1]
    return f"{region} — {description}" if description else region


def invalid_region_message(region: str) -> str:
    return (
        f"{region[:40]!r} is not an AWS region where Lambda runs. Use a region code such as "
        "us-east-1 or eu-west-2 (the form's Region menu lists them all)."
    )
