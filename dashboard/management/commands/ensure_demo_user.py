from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tuneboard-demo"  # noqa: S105  (local demo login, printed on purpose)


class Command(BaseCommand):
    help = (
        "Creates a demo superuser when the database has no user yet, and prints its login. "
        "With --real-aws it never creates one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--real-aws",
            action="store_true",
            help="Tuneboard talks to real AWS: create no user, and refuse while the demo user "
            "still has its published password (anyone could change production functions).",
        )

    def handle(self, *args, real_aws=False, **options):
        users = get_user_model().objects
        demo = users.filter(username=DEMO_USERNAME).first()
        if real_aws:
            if demo is not None and demo.check_password(DEMO_PASSWORD):
                raise CommandError(
                    f"User {DEMO_USERNAME} still has the published password and this Tuneboard "
                    f"talks to real AWS: change it (python manage.py changepassword "
                    f"{DEMO_USERNAME}) or delete the user first."
                )
            if users.exists():
                self.stdout.write("Log in with your own account.")
            else:
                self.stdout.write(
                    "No user yet: create yours with `python manage.py createsuperuser` "
                    "(the demo login is made only for the local sandbox)."
                )
            return
        if demo is None and not users.exists():
            users.create_superuser(DEMO_USERNAME, "demo@example.com", DEMO_PASSWORD)
            self.stdout.write(f"Created demo user. Log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
        elif demo is not None and demo.check_password(DEMO_PASSWORD):
            self.stdout.write(f"Log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
        else:
            self.stdout.write("Users exist already; log in with your own account.")
