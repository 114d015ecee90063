from django.core.management.base import BaseCommand, CommandError

from prices.models import RefreshStatus
from prices.refresh import refresh_prices


class Command(BaseCommand):
    help = (
        "Fetch Lambda, DAX and DynamoDB prices from the AWS Price List now. A service that "
        "cannot be fetched keeps its last good prices; the command then exits 1."
    )

    def handle(self, *args, **options):
        attempt = refresh_prices("command")
        for service, count in sorted(attempt.counts.items()):
            self.stdout.write(f"{service}: {count} prices stored")
        if attempt.status != RefreshStatus.SUCCEEDED:
            raise CommandError(f"Price refresh failed (last good prices kept):\n{attempt.error}")
        self.stdout.write(self.style.SUCCESS("Prices refreshed."))
