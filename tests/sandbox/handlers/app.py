"""General-purpose test handler: echo, context, environment, logging, failures."""

import logging
import os
import sys
import time

logger = logging.getLogger("app")
logger.setLevel(logging.INFO)
IMPORTED_AT = time.time()


def handler(event, context):
    action = event.get("action", "echo")
    if action == "echo":
        return {"event": event, "imported_at": IMPORTED_AT, "pid": os.getpid()}
    if action == "context":
        return {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "cwd": os.getcwd(),
            "sys_path_0": sys.path[0],
            "environ": dict(os.environ),
        }
    if action == "log":
        print("plain print line")
        print("to stderr", file=sys.stderr)
        logger.info("hello from logging")
        logger.warning("careful")
        return {"logged": True}
    if action == "raise":
        raise ValueError(event.get("message", "boom"))
    if action == "exit":
        os._exit(int(event.get("code", 3)))
    if action == "window":  # when the handler ran, to see which invocations overlapped
        started = time.time()
        time.sleep(float(event["seconds"]))
        return {"start": started, "end": time.time()}
    if action == "sleep":
        time.sleep(float(event["seconds"]))
        return {"slept": event["seconds"], "pid": os.getpid()}
    raise KeyError(action)
