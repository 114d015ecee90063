"""What a pre-/post-processor call cost. Processors are never measured but they are billed like
any invocation: the Billed Duration of the call's REPORT line at the memory size it states, at
the processor's own architecture and ephemeral storage and the run's region and prices, request
fee included. The processor's configuration is read once per batch; a call without a REPORT
line, or of a processor whose configuration cannot be read, counts its request fee only."""

from __future__ import annotations

import threading
from decimal import Decimal

from tuning import aws, costing, price_table
from tuning.aws import PermanentAwsError


class ProcessorPricing:
    """Prices one batch's processor calls; ``retrying(call)`` runs an AWS call as the batch
    runs its invocations (retried in place while AWS throttles)."""

    def __init__(self, run, retrying):
        self.run = run
        self._retrying = retrying
        self._configs: dict[str, dict | None] = {}  # None: not readable
        self._lock = threading.Lock()  # one configuration read per processor, whatever the lanes

    def cost(self, function: str, report) -> Decimal | None:
        """What the call of ``function`` that returned ``report`` cost; None when it cannot be
        told (no REPORT, configuration unreadable, no price for the region)."""
        if report is None:
            return None
        config = self._configuration(function)
        if config is None:
            return None
        return costing.billed_cost(
            report,
            report.memory_size_mb,
            architecture=config["architecture"],
            region=self.run.region,
            ephemeral_storage_mb=config["ephemeral_storage_mb"],
            prices=price_table.for_run(self.run),
        )

    def _configuration(self, function: str) -> dict | None:
        with self._lock:
            if function not in self._configs:
                run = self.run
                try:
                    self._configs[function] = self._retrying(
                        lambda: aws.get_function_configuration(run.account, run.region, function)
                    )
                except PermanentAwsError:  # allowed to invoke it, not to read it
                    self._configs[function] = None
            return self._configs[function]
