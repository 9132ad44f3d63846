import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login. Simulator mode only: never on a real account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="use this password instead of a random one")

    def handle(self, *args: object, password: str | None = None, **options: object) -> None:
        if settings.TRUEDY_API_KEY:
            raise CommandError(
                "TRUEDY_API_KEY is set: no demo login is created against a real Truedy account. "
                "Create a staff user with: python manage.py createsuperuser"
            )
        password = password or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login (simulator data): username {DEMO_USERNAME!r}, password {password!r}"
            )
        )
