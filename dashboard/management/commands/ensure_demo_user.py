from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tuneboard-demo"  # noqa: S105  (local demo login, printed on purpose)


class Command(BaseCommand):
    help = "Creates a demo superuser when the database has no user yet, and prints its login."

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.exists():
            if users.filter(username=DEMO_USERNAME).exists():
                self.stdout.write(
                    f"Log in as {DEMO_USERNAME} / {DEMO_PASSWORD} (unless you changed it)"
                )
            else:
                self.stdout.write("Users exist already; log in with your own account.")
            return
        users.create_superuser(DEMO_USERNAME, "demo@example.com", DEMO_PASSWORD)
        self.stdout.write(f"Created demo user. Log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
