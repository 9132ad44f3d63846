"""`runserver` (whitenoise's, which leaves static files to the app), refusing to start where it
could only answer 500s: DEBUG off and static files never collected (calls/checks.py)."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # whitenoise ships no types; its Command subclasses the next app's runserver, which the
    # order of INSTALLED_APPS makes django.contrib.staticfiles'.
    from django.contrib.staticfiles.management.commands.runserver import (
        Command as NoStaticRunserver,
    )
else:
    from whitenoise.runserver_nostatic.management.commands.runserver import (
        Command as NoStaticRunserver,
    )

from calls.checks import COLLECTED_STATIC


class Command(NoStaticRunserver):
    def check(self, *args: Any, **kwargs: Any) -> None:
        super().check(*args, **kwargs)
        if not args and not kwargs.get("tags"):  # runserver's own start-up check
            super().check(
                tags=[COLLECTED_STATIC],
                include_deployment_checks=True,
                display_num_errors=kwargs.get("display_num_errors", False),
            )
