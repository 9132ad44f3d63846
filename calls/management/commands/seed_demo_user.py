import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.services import scorecards

DEMO_USERNAME = "demo"
# username -> role (a group made by migration 0005_roles); `demo` reviews, like a supervisor.
DEMO_LOGINS = {DEMO_USERNAME: "Reviewer", "reviewer": "Reviewer", "viewer": "Viewer"}


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo staff logins: demo and reviewer (Reviewer role) and viewer "
        "(Viewer role), and the demo scorecard. Simulator mode only: never on a real account."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="use this password for every demo login")

    def handle(self, *args: object, password: str | None = None, **options: object) -> None:
        if settings.TRUEDY_API_KEY:
            raise CommandError(
                "TRUEDY_API_KEY is set: no demo login is created against a real Truedy account. "
                "Create a staff user with: python manage.py createsuperuser"
            )
        for username, role in DEMO_LOGINS.items():
            given = password or secrets.token_urlsafe(12)
            self._seed(username, role, given)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo login (simulator data): username {username!r}, password {given!r} "
                    f"({role})"
                )
            )
        # A scorecard to try (README, "Scorecards"), made once: edits made since are kept.
        scorecards.seed_scorecard(scorecards.demo_scorecard())

    def _seed(self, username: str, role: str, password: str) -> None:
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise CommandError(f"The {role} role is missing: run `manage.py migrate` first.")
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([group])
