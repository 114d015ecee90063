"""Execution environments of the local Lambda sandbox.

The API server calls :class:`EnvironmentPool` to run handlers in real child processes
whose CPU and memory are limited the way Lambda limits them.
"""

from sandbox.runtime.billing import billed_duration_ms
from sandbox.runtime.pool import EnvironmentPool
from sandbox.runtime.spec import FunctionSpec, InvokeResult

__all__ = ["EnvironmentPool", "FunctionSpec", "InvokeResult", "billed_duration_ms"]
