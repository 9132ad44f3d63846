from django.core.management.base import BaseCommand

from calls.background.alerts import check_alerts


class Command(BaseCommand):
    help = (
        "Check every active alert rule now, as the scheduler does every ALERT_CHECK_INTERVAL "
        "seconds: an issue is opened where one fires, and its deliveries are sent."
    )

    def handle(self, *args: object, **options: object) -> None:
        opened = check_alerts()
        self.stdout.write(f"{opened} alert{'s' if opened != 1 else ''} opened.")
