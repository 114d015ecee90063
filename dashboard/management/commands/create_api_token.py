from argparse import ArgumentTypeError
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.models import ApiToken


def positive_days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(f"must be a whole number of days, at least 1, got {value!r}")
    return int(value)


class Command(BaseCommand):
    help = "Creates an API token for a user and prints it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument(
            "--read-only", action="store_true", help="the token may only read (GET)"
        )
        parser.add_argument(
            "--expires-in",
            type=positive_days,
            metavar="DAYS",
            help="the token stops working after this many days (default: never)",
        )

    def handle(self, *args, username, name, read_only, expires_in, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        _token, key = ApiToken.issue(
            user,
            name,
            scope=ApiToken.Scope.READ if read_only else ApiToken.Scope.WRITE,
            expires_at=timezone.now() + timedelta(days=expires_in) if expires_in else None,
        )
        self.stdout.write(key)
