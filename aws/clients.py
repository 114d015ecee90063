"""boto3 clients, created once per process and reused across tasks.

Endpoints come from botocore's standard environment variables (AWS_ENDPOINT_URL_LAMBDA, ...),
credentials from the normal chain, or from an STS role when an account names one.
"""

import threading
from functools import lru_cache

import boto3
from botocore.config import Config

# One attempt per call: aws.retry is the one place calls are repeated (with backoff, only for
# transient errors, visible in the logs). read_timeout above Lambda's 900 s maximum: a
# synchronous Invoke must never time out and be sent again, which would run the function twice.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    max_pool_connections=50,
    read_timeout=910,
)

_lock = threading.Lock()


@lru_cache(maxsize=64)
def _session(role_arn: str | None, external_id: str | None, region: str) -> boto3.Session:
    if not role_arn:
        return boto3.Session(region_name=region)
    from botocore.credentials import DeferredRefreshableCredentials
    from botocore.session import get_session

    sts = boto3.client("sts", region_name=region, config=CLIENT_CONFIG)

    def refresh():
        params = {"RoleArn": role_arn, "RoleSessionName": "tuneboard"}
        if external_id:
            params["ExternalId"] = external_id
        creds = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    botocore_session = get_session()
    botocore_session._credentials = DeferredRefreshableCredentials(refresh, "sts-assume-role")
    botocore_session.set_config_variable("region", region)
    return boto3.Session(botocore_session=botocore_session)


@lru_cache(maxsize=256)
def _client(service: str, region: str, role_arn: str | None, external_id: str | None):
    return _session(role_arn, external_id, region).client(service, config=CLIENT_CONFIG)


def client(service: str, region: str, role_arn: str | None = None, external_id: str | None = None):
    """A shared client for (service, region, role); boto3 clients are thread-safe."""
    with _lock:
        return _client(service, region, role_arn or None, external_id or None)


def clear() -> None:
    with _lock:
        _client.cache_clear()
        _session.cache_clear()
