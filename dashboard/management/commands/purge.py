from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard import retention


class Command(BaseCommand):
    help = (
        "Deletes runs (with their invocations) and DAX collections older than "
        "TUNEBOARD_RETENTION_DAYS, metric points and rollups past their horizons, and the "
        "embedded broker's leftovers: what the daily retention task does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="retention in days instead of TUNEBOARD_RETENTION_DAYS (0 = keep for ever)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be deleted; delete nothing"
        )

    def handle(self, *args, days, dry_run, **options):
        days = settings.TUNEBOARD_RETENTION_DAYS if days is None else days
        try:
            counts = retention.purge(days, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Retention: {days} days."
            if days
            else "Retention: 0, runs, collections and rollups are kept for ever."
        )
        self.stdout.write("Would delete (dry run, nothing deleted):" if dry_run else "Deleted:")
        for kind, n in counts.items():
            self.stdout.write(f"  {kind}: {n}")
        if not counts:
            self.stdout.write("  nothing")
