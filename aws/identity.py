"""Who a set of credentials is: STS GetCallerIdentity (allowed for every principal, no
permission needed)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from aws import clients
from aws.errors import map_error


@dataclass(frozen=True)
class Identity:
    account_id: str
    partition: str  # aws, aws-cn, aws-us-gov: the first part of every ARN in that account

    def function_arn(self, region: str, name: str) -> str:
        """The unqualified ARN of a Lambda function of this account."""
        return f"arn:{self.partition}:lambda:{region}:{self.account_id}:function:{name}"


def caller_identity(region: str, role_arn: str = "", external_id: str = "", where: str = ""):
    """The account and partition the credentials act in (through the role, when there is one).
    AwsError when they do not work; ``where`` names them in that message."""
    client = clients.client("sts", region, role_arn or None, external_id or None)
    try:
        answer = client.get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise map_error(
            exc, operation="sts:GetCallerIdentity", where=where, role_arn=role_arn
        ) from exc
    return Identity(account_id=answer["Account"], partition=answer["Arn"].split(":")[1])
