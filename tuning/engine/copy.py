"""x86_64 vs arm64 in one run: the temporary copy a companion run sweeps.

A run started with ``compare_architectures`` has a companion run (``TuningRun.copy_of``) whose
worker, before anything else, creates a copy of the user's function with the other
architecture: the same code package (GetFunction's ``Code.Location``) and configuration,
``Architectures=[other]``. The copy's name marks its run (``copy_name``) and is stored on the
run *before* CreateFunction, so whoever cleans the run up — its own worker, the cancel task,
the reaper after a worker died, the reaper's retries — can always delete it
(``delete_copy``, called by ``finish.cleanup``). The environment values travel from
GetFunction to CreateFunction in memory only: never stored or logged.

Allowed functions: the copy is allowed when the function it copies is (the account's list
names functions users may sweep; a copy is created by Tuneboard, named after the run, and
deleted by it). Container images cannot switch architecture (an image is built for one):
refused before anything is created.
"""

from __future__ import annotations

import logging

from aws.retry import retrying
from tuning import aws
from tuning.engine.latest import COLD_START_ENV_VAR, FunctionChanged, code_changed_message
from tuning.engine.target import TargetRefused
from tuning.params import MAX_TEXT_CHARS

log = logging.getLogger(__name__)

#: Lambda function names are at most 64 characters.
MAX_FUNCTION_NAME = 64
#: Every copy's name starts so (followed by 8 hex digits of its run's id).
COPY_PREFIX = "tuneboard-"


def other_architecture(architecture: str) -> str:
    return "x86_64" if architecture == "arm64" else "arm64"


def copy_name(run_id, architecture: str, source: str) -> str:
    """``tuneboard-<8 hex of the run id>-<architecture>-<source name, cut to fit 64>``."""
    prefix = f"{COPY_PREFIX}{run_id.hex[:8]}-{architecture}-"
    return (prefix + source)[:MAX_FUNCTION_NAME].rstrip("-_")


def copy_request(config: dict, name: str, architecture: str, description: str) -> dict:
    """CreateFunction parameters (code aside) that repeat ``config`` (a GetFunction
    configuration) with ``architecture``. What a configuration answer holds and
    CreateFunction accepts is copied; the log group only when it is not the function's own
    default (the copy logs to its own)."""
    request: dict = {
        "FunctionName": name,
        "Description": description[:256],
        "PackageType": "Zip",
        "Architectures": [architecture],
        "Publish": False,
    }
    for key in ("Runtime", "Handler", "Role", "Timeout", "MemorySize", "KMSKeyArn"):
        if config.get(key):
            request[key] = config[key]
    variables = (config.get("Environment") or {}).get("Variables") or {}
    # A cold-starts sweep of the original may have its own marker variable set right now.
    variables = {k: v for k, v in variables.items() if k != COLD_START_ENV_VAR}
    if variables:
        request["Environment"] = {"Variables": variables}
    if config.get("Layers"):
        request["Layers"] = [layer["Arn"] for layer in config["Layers"]]
    if config.get("EphemeralStorage"):
        request["EphemeralStorage"] = {"Size": config["EphemeralStorage"]["Size"]}
    if (config.get("TracingConfig") or {}).get("Mode"):
        request["TracingConfig"] = {"Mode": config["TracingConfig"]["Mode"]}
    vpc = config.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        request["VpcConfig"] = {
            "SubnetIds": vpc["SubnetIds"],
            "SecurityGroupIds": vpc.get("SecurityGroupIds") or [],
        }
        if "Ipv6AllowedForDualStack" in vpc:
            request["VpcConfig"]["Ipv6AllowedForDualStack"] = vpc["Ipv6AllowedForDualStack"]
    if config.get("FileSystemConfigs"):
        request["FileSystemConfigs"] = [
            {"Arn": fs["Arn"], "LocalMountPath": fs["LocalMountPath"]}
            for fs in config["FileSystemConfigs"]
        ]
    logging_config = config.get("LoggingConfig") or {}
    kept = {
        key: logging_config[key]
        for key in ("LogFormat", "ApplicationLogLevel", "SystemLogLevel")
        if logging_config.get(key)
    }
    group = logging_config.get("LogGroup")
    if group and group != f"/aws/lambda/{config.get('FunctionName')}":
        kept["LogGroup"] = group
    if kept:
        request["LoggingConfig"] = kept
    apply_on = (config.get("SnapStart") or {}).get("ApplyOn")
    if apply_on and apply_on != "None":
        request["SnapStart"] = {"ApplyOn": apply_on}
    if (config.get("DeadLetterConfig") or {}).get("TargetArn"):
        request["DeadLetterConfig"] = {"TargetArn": config["DeadLetterConfig"]["TargetArn"]}
    return request


def refusal(config: dict, source: str) -> str:
    """Why ``source`` cannot be copied ("" when it can)."""
    if config.get("PackageType") == "Image":
        return (
            f"{source} is a container image: an image is built for one architecture, so "
            "Tuneboard cannot copy it to the other one. Nothing was created. Build and deploy an "
            "image for the other architecture as its own function and sweep it, then compare "
            "the two runs."
        )
    unreadable = (config.get("Environment") or {}).get("Error")
    if unreadable:
        return (
            f"Comparing architectures copies {source} with its environment variables, but Lambda "
            f"could not decrypt them ({unreadable.get('ErrorCode', 'error')}): nothing was "
            "created. Give the workers' role kms:Decrypt on the function's key, or sweep without "
            "the comparison."
        )
    return ""


def create_copy(run, identity) -> None:
    """Create the companion run's copy and key the run on it (TargetRefused when the function
    cannot be copied: nothing is created then)."""
    acct, region = run.account, run.region
    source = identity.function_arn(region, run.function_name)
    found = retrying(aws.get_function, acct, region, source)
    config = found["config"]
    refused = refusal(config, run.function_name)
    if refused:
        raise TargetRefused(refused)
    architecture = other_architecture((config.get("Architectures") or ["x86_64"])[0])
    name = copy_name(run.id, architecture, run.function_name)
    run.record_copy(name)  # before it exists: cleanup can always try to delete it
    run.take_ownership(identity.function_arn(region, name))
    code = retrying(aws.download_code, found["code_location"], run.function_name)
    request = copy_request(
        config,
        name,
        architecture,
        f"Temporary {architecture} copy of {run.function_name} for {run.version_marker}",
    )
    request["Code"] = {"ZipFile": code}
    request["Tags"] = {"tuneboard-run": str(run.id), "tuneboard-copy-of": run.function_name}
    created = retrying(aws.create_function, acct, region, request)
    if created.get("CodeSha256") != config.get("CodeSha256"):
        raise FunctionChanged(
            code_changed_message(config.get("CodeSha256", ""), created.get("CodeSha256", ""))
        )
    retrying(aws.wait_function_active, acct, region, run.lambda_function)
    run.note(f"Created the temporary {architecture} copy {name} of {run.function_name}.")
    log.info("created the %s copy %s", architecture, name)


def delete_copy(run) -> str:
    """Delete the run's copy: "" when it is gone (or was never created), else what is left."""
    if not run.copy_function:
        return ""
    try:
        deleted = retrying(aws.delete_function, run.account, run.region, run.lambda_function)
    except aws.AwsError as exc:
        return f"the temporary copy {run.copy_function} ({str(exc)[:MAX_TEXT_CHARS]})"
    if deleted:
        run.note(f"Deleted the temporary copy {run.copy_function}.")
    return ""


def delete_copy_again(run) -> bool:
    """The reaper's second look after a finished run: True when its copy was still there (it
    is deleted now). AwsError when Lambda cannot be asked."""
    return bool(run.copy_function) and aws.delete_function(
        run.account, run.region, run.lambda_function
    )
