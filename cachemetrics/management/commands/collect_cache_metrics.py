"""python manage.py collect_cache_metrics [--since 3h] [--account NAME] [--json]"""

import json
import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from aws.models import AwsAccount
from cachemetrics import collector

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text or "")
    if not match:
        raise CommandError(f"--since {text!r}: use a number and a unit, e.g. 90m, 3h, 2d, 1w")
    value = timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    if value <= timedelta(0):
        raise CommandError("--since must be positive")
    return value


class Command(BaseCommand):
    help = (
        "Collect DAX clusters and their CloudWatch metrics now (what the 5-minute beat task "
        "does). Incremental from each series' last collected minute; --since re-reads a period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            help="How far back to read, e.g. 3h (default: since the last collection, 24h the "
            "first time; at most 15 days of 1-minute data).",
        )
        parser.add_argument("--account", help="Only this AwsAccount (by name).")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print the result as JSON."
        )

    def handle(self, *args, since=None, account=None, as_json=False, **options):
        delta = parse_since(since) if since else None
        if account:
            try:
                accounts = [AwsAccount.objects.get(name=account)]
            except AwsAccount.DoesNotExist:
                raise CommandError(f"No AWS account named {account!r}.") from None
            collections = [
                collector.collect_target(acc, region, since=delta)
                for acc, region in collector.targets()
                if acc in accounts
            ]
        else:
            collections = collector.collect_all(since=delta)
        rows = [
            {
                "id": c.pk,
                "account": c.account_name,
                "region": c.region,
                "status": c.status,
                "clusters": c.clusters_seen,
                "vanished": c.clusters_vanished,
                "series": c.series_count,
                "api_calls": c.api_calls,
                "get_metric_data_calls": c.metric_data_calls,
                "datapoints_received": c.datapoints_received,
                "points_written": c.points_written,
                "errors": c.errors,
                "seconds": round(c.duration_s or 0, 2),
            }
            for c in collections
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            for row in rows:
                self.stdout.write(
                    f"{row['account']} {row['region']}: {row['status']} - "
                    f"{row['clusters']} clusters, {row['series']} series, "
                    f"{row['get_metric_data_calls']} GetMetricData calls, "
                    f"{row['datapoints_received']} datapoints received, "
                    f"{row['points_written']} points written in {row['seconds']} s"
                )
                for error in row["errors"]:
                    self.stderr.write(
                        f"  {error['kind']} error in {error['stage']}: {error['message']}"
                    )
        if collections and all(c.status == "failed" for c in collections):
            raise CommandError("Every collection failed (see the errors above).")
