"""Power Tuning's ``payloadS3``: the event read from an S3 object by the worker, with the run's
credentials. Only the URI is stored on the run, never the payload (it may be large or private).
"""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from aws import clients
from tuning.params import parse_s3_uri

#: Lambda's limit for a synchronous invocation's request payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class PayloadUnavailable(Exception):
    """The S3 payload cannot be used; str() is for users."""


def _client(account, region: str):
    role = account.role_arn if account is not None else None
    external = account.external_id if account is not None else None
    return clients.client("s3", region, role, external)


def read_payload(account, region: str, uri: str) -> bytes:
    """The object's bytes, checked to be JSON within Lambda's 6 MB limit."""
    bucket, key = parse_s3_uri(uri)
    s3 = _client(account, region)
    try:
        size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if size > MAX_PAYLOAD_BYTES:
            raise PayloadUnavailable(
                f"The payload {uri} is {size:,} bytes; Lambda accepts at most "
                f"{MAX_PAYLOAD_BYTES:,} bytes (6 MB) for a synchronous invocation."
            )
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_PAYLOAD_BYTES + 1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise PayloadUnavailable(f"The payload {uri} does not exist (no such object).") from exc
        if code in ("NoSuchBucket",):
            raise PayloadUnavailable(f"The bucket of the payload {uri} does not exist.") from exc
        if code in ("403", "AccessDenied", "Forbidden"):
            raise PayloadUnavailable(
                f"Access denied reading the payload {uri}: the sweep's credentials need "
                "s3:GetObject on it."
            ) from exc
        raise PayloadUnavailable(f"Could not read the payload {uri}: {code or exc}.") from exc
    except BotoCoreError as exc:
        raise PayloadUnavailable(f"Could not read the payload {uri}: {exc}.") from exc
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadUnavailable(f"The payload {uri} is larger than Lambda's 6 MB limit.")
    try:
        json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadUnavailable(f"The payload {uri} is not JSON.") from None
    return body
