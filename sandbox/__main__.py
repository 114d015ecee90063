"""``python -m sandbox``: serve the local AWS until stopped.

Prints ``export AWS_...=...`` lines on stdout (then a ``# sandbox ready`` comment), so
``eval "$(python -m sandbox ...)"``-style use works; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from sandbox.server import SEED_PARTS, Sandbox, log


class _Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to unwind into the cleanup."""


def _ignore(signum, frame) -> None:
    return None


def _parts(value: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = set(parts) - set(SEED_PARTS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown seed part(s) {', '.join(sorted(unknown))}; choose from {SEED_PARTS}"
        )
    return parts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local AWS for Tuneboard: a Lambda-compatible API (functions run in local "
        "execution environments with CPU/memory limits) plus moto in server mode "
        "for CloudWatch, DAX, DynamoDB and STS. Prints export lines for the "
        "AWS_ENDPOINT_URL_* variables.",
        epilog="With --state-dir, Lambda state (functions, versions, aliases, code zips, "
        "reserved concurrency) is saved on every change and reloaded on start. moto "
        "state (CloudWatch metrics, DAX clusters, DynamoDB tables) is NOT persisted: "
        "it is re-seeded with --seed. Port 0 picks a free port. Stop with SIGTERM or "
        "Ctrl-C.",
    )
    parser.add_argument(
        "--lambda-port",
        type=int,
        default=9001,
        help="port of the Lambda API (default 9001, 0 = any free port)",
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=9002,
        help="port of moto: CloudWatch, DAX, DynamoDB, STS (default 9002, 0 = any free port)",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        help="deploy the demo functions and DAX clusters with 24 h of metrics",
    )
    parser.add_argument(
        "--seed-parts",
        type=_parts,
        default=None,
        metavar="PARTS",
        help="comma-separated subset of functions,dax to seed (implies --seed)",
    )
    parser.add_argument(
        "--state-dir", default=None, help="persist Lambda state here (moto state is not persisted)"
    )
    parser.add_argument(
        "--update-delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="how long a function update stays InProgress (default 0.5)",
    )
    parser.add_argument(
        "--snapstart-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long a new version of a SnapStart function stays Pending (default 1)",
    )
    parser.add_argument(
        "--concurrency-limit",
        type=int,
        default=1000,
        metavar="N",
        help="account concurrent executions limit (default 1000)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds before an idle execution environment is shut down (default 300)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def stop(signum, frame):
        raise _Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sandbox = Sandbox(
        args.lambda_port,
        args.aws_port,
        state_dir=args.state_dir,
        update_delay_s=args.update_delay,
        snapstart_delay_s=args.snapstart_delay,
        concurrency_limit=args.concurrency_limit,
        idle_timeout_s=args.idle_timeout,
        verbose=args.verbose,
    )
    try:
        try:
            sandbox.start()
        except OSError as exc:  # typically: port already in use
            log(f"cannot start: {exc}")
            return 2
        if args.seed or args.seed_parts:
            sandbox.seed(args.seed_parts or SEED_PARTS)
        sys.stdout.write(sandbox.export_lines())
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except _Stop as exc:
        log(f"{exc}: stopping")
        return 0
    finally:
        # Not SIG_IGN: an ignored signal would be inherited by processes started meanwhile.
        signal.signal(signal.SIGTERM, _ignore)
        signal.signal(signal.SIGINT, _ignore)
        sandbox.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
