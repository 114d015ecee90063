"""The worker side of a sweep (DESIGN.md "Sweep flow"): plain functions that Celery tasks
(tuning/tasks.py) call. Nothing here imports the tasks or the user commands
(tuning/runs.py): what must be enqueued next is passed in as a callable.

Who does what
-------------
* ``publish.start_sweep`` (queue ``sweeps``) claims the run (PENDING→RUNNING, conditional
  UPDATE), resolves the function to its unqualified ARN with the run's credentials and keys the
  run on it (``target.resolve_and_own``: refused for an ARN of another account, or when another
  run owns the function; every Lambda call then names that ARN), records the original memory
  size and CodeSha256 (``latest.record_original``), then publishes strictly serially: update
  ``$LATEST``'s MemorySize, wait, publish a version (Description = the run's marker, so cleanup
  finds every version it created; its MemorySize and CodeSha256 must be what was asked), create
  the alias ``run.alias_name(mb)`` and enqueue that size's executor batches at once
  (pipelining). Right after the last publish it restores ``$LATEST`` and moves the run to phase
  ``invoking``.
* ``execute.run_batch`` (queue ``invocations``) invokes an alias for a range of sequence
  numbers, serially or with threads under the run's concurrency cap (a counter on the run taken
  with a conditional UPDATE, so the cap holds across processes and machines), stores every
  Invocation as it completes (idempotent on (result, sequence)), updates progress and
  heartbeat. The batch that completes a size's last batch computes its statistics; whoever then
  wins ``TuningRun.claim_finish`` analyses, cleans up and sets the final status
  (``finish.try_finish``).
* Anyone who hits a fatal error (AccessDenied, not found, invalid parameter, code changed)
  records ``stop_reason``; a cancel sets ``cancel_requested``. The first party able to claim the
  cleanup (the publisher while publishing, otherwise executors / the cancel task) deletes the
  run's aliases and versions, restores ``$LATEST`` and finishes the run (``finish``).
* ``reaper.reap_stale_runs`` (beat, every minute, queue ``maintenance``) cleans up runs whose
  publisher or cleaner died, resumes invoking runs whose queued batches were lost (sending
  again what the database says is missing; a batch holding a live lease is alive), and retries
  cleanups that did not finish.
* ``apply.apply_memory`` sets a size on ``$LATEST`` or an alias (auto-apply and "Apply").

Cold-starts-only mode publishes one version per measured invocation: before each publish
``$LATEST`` gets the environment variable ``TUNEBOARD_COLD_START=<run>-<mb>-<n>``, so every
version has a distinct configuration (PublishVersion really creates it) and Lambda — AWS and
the sandbox alike — has no warm execution environment for a version that was never invoked:
its single invocation is a cold start. The variable is removed from ``$LATEST`` afterwards.
"""
