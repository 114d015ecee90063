"""The sandbox Lambda serves several regions as AWS does: the region is the request's SigV4
credential scope, functions live in one region, ARNs carry it."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from sandbox.lambda_state import LambdaState, in_region
from sandbox.seed_functions import OTHER_REGIONS

WHERE_AM_I = """
import os

def handler(event, context):
    return {"region": os.environ["AWS_REGION"], "arn": context.invoked_function_arn}
"""


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_a_function_of_eu_west_2_is_not_visible_from_us_east_1(sandbox, make_function):
    london, virginia = sandbox.lambda_client("eu-west-2"), sandbox.lambda_client("us-east-1")
    name = make_function(WHERE_AM_I, region="eu-west-2")

    config = london.get_function_configuration(FunctionName=name)
    assert config["FunctionArn"] == f"arn:aws:lambda:eu-west-2:123456789012:function:{name}"
    with pytest.raises(ClientError) as missing:
        virginia.get_function_configuration(FunctionName=name)
    assert error_code(missing) == "ResourceNotFoundException"
    assert f"arn:aws:lambda:us-east-1:123456789012:function:{name}" in str(missing.value)
    assert name not in [f["FunctionName"] for f in virginia.list_functions()["Functions"]]
    assert name in [f["FunctionName"] for f in london.list_functions()["Functions"]]
    # Its full ARN does not reach it from another region either (AWS: not found).
    with pytest.raises(ClientError) as by_arn:
        virginia.invoke(FunctionName=config["FunctionArn"], Payload=b"{}")
    assert error_code(by_arn) == "ResourceNotFoundException"


def test_versions_aliases_and_the_runtime_carry_the_region(sandbox, make_function):
    client = sandbox.lambda_client("ap-southeast-2")
    name = make_function(WHERE_AM_I, region="ap-southeast-2")
    version = client.publish_version(FunctionName=name)
    alias = client.create_alias(FunctionName=name, Name="live", FunctionVersion=version["Version"])
    prefix = f"arn:aws:lambda:ap-southeast-2:123456789012:function:{name}"
    assert version["FunctionArn"] == f"{prefix}:{version['Version']}"
    assert alias["AliasArn"] == f"{prefix}:live"

    answer = json.loads(client.invoke(FunctionName=name, Qualifier="live")["Payload"].read())
    assert answer["region"] == "ap-southeast-2"  # AWS_REGION inside the function
    assert answer["arn"].startswith("arn:aws:lambda:ap-southeast-2:")


def test_the_same_name_in_two_regions_is_two_functions(sandbox, make_function):
    name = make_function(WHERE_AM_I, region="eu-west-2", MemorySize=256)
    make_function(WHERE_AM_I, region="us-east-1", FunctionName=name, MemorySize=512)
    london, virginia = sandbox.lambda_client("eu-west-2"), sandbox.lambda_client("us-east-1")
    london.update_function_configuration(FunctionName=name, MemorySize=1024)

    assert london.get_function_configuration(FunctionName=name)["MemorySize"] == 1024
    assert virginia.get_function_configuration(FunctionName=name)["MemorySize"] == 512
    answer = json.loads(virginia.invoke(FunctionName=name)["Payload"].read())
    assert answer["region"] == "us-east-1"


def test_demo_functions_are_seeded_in_other_regions_too(sandbox):
    for region, names in OTHER_REGIONS.items():
        listed = sandbox.lambda_client(region).list_functions()["Functions"]
        seeded = {f["FunctionName"]: f["FunctionArn"] for f in listed if f["FunctionName"] in names}
        assert sorted(seeded) == sorted(names)
        assert all(f":lambda:{region}:" in arn for arn in seeded.values())
    home = sandbox.lambda_client("us-east-1").list_functions()["Functions"]
    assert "tuneboard-memory" in [f["FunctionName"] for f in home]  # us-east-1 keeps all


def test_a_malformed_region_in_the_credential_scope_is_refused(sandbox):
    client = sandbox.lambda_client("moon")
    with pytest.raises(ClientError) as refused:
        client.list_functions()
    assert error_code(refused) == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Credential should be scoped to a valid region, not 'moon'" in str(refused.value)


def test_an_unsigned_request_is_served_in_us_east_1(sandbox):
    url = sandbox.env["AWS_ENDPOINT_URL_LAMBDA"] + "/2015-03-31/functions/tuneboard-io"
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the local sandbox
        body = json.load(response)
    assert body["Configuration"]["FunctionArn"].startswith("arn:aws:lambda:us-east-1:")


# ----------------------------------------------------------------------------- saved state

CREATE = {
    "Runtime": "python3.11",
    "Role": "arn:aws:iam::123456789012:role/test",
    "Handler": "handler.handler",
}


def _create(state: LambdaState, name: str) -> dict:
    import base64
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    code = {"ZipFile": base64.b64encode(buffer.getvalue()).decode()}
    return state.create_function({"FunctionName": name, "Code": code, **CREATE})


def test_saved_state_keeps_each_functions_region(tmp_path):
    state = LambdaState(tmp_path, update_delay_s=0)
    with in_region("eu-west-2"):
        _create(state, "london")
    _create(state, "virginia")
    state.close()

    reloaded = LambdaState(tmp_path, update_delay_s=0)
    with in_region("eu-west-2"):
        arn = reloaded.get_function_configuration("london", None)["FunctionArn"]
        assert arn == "arn:aws:lambda:eu-west-2:123456789012:function:london"
        listed = reloaded.list_functions(None, None, None)["Functions"]
        assert [f["FunctionName"] for f in listed] == ["london"]
    assert list(reloaded.functions) == ["virginia"]  # us-east-1 outside any request


def test_a_state_file_saved_before_regions_loads_in_us_east_1(tmp_path):
    state = LambdaState(tmp_path, update_delay_s=0)
    _create(state, "old")
    saved = tmp_path / "lambda_state.json"
    data = json.loads(saved.read_text())
    for item in data["functions"]:
        del item["region"]  # as written before the sandbox had regions
    saved.write_text(json.dumps(data))

    reloaded = LambdaState(tmp_path, update_delay_s=0)
    arn = reloaded.get_function_configuration("old", None)["FunctionArn"]
    assert arn == "arn:aws:lambda:us-east-1:123456789012:function:old"
    with in_region("eu-west-2"), pytest.raises(Exception, match="Function not found"):
        reloaded.get_function_configuration("old", None)
