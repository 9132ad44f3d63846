from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.simulator import Simulator
from calls.simulator.webhooks import EVENTS, WebhookSender, call_event
from calls.truedy.webhooks import TOLERANCE_SECONDS, configured_secrets
from calls.upstream import gateway

DEFAULT_URL = "http://127.0.0.1:8000/webhooks/truedy"


class Command(BaseCommand):
    help = (
        "Send signed demo webhook events about one of the embedded simulator's calls to a "
        "running dashboard, signed with TRUEDY_WEBHOOK_SECRET (the dashboard must have the same)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=DEFAULT_URL, help=f"receiver (default {DEFAULT_URL})")
        parser.add_argument("--call", help="call id (default: the newest ended call)")
        parser.add_argument(
            "--event",
            action="append",
            choices=EVENTS,
            help="event to send; repeat to send several, in that order (default call.ended)",
        )
        parser.add_argument("--duplicate", action="store_true", help="deliver each event twice")
        parser.add_argument(
            "--camel", action="store_true", help="camelCase data (data.call.callId)"
        )
        parser.add_argument("--no-id", action="store_true", help="leave out the event id")
        parser.add_argument(
            "--bad-signature", action="store_true", help="sign with a wrong secret (expect 401)"
        )
        parser.add_argument(
            "--stale",
            action="store_true",
            help=f"timestamp older than {TOLERANCE_SECONDS} s, as a replay (expect 401)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secrets = configured_secrets(settings.TRUEDY_WEBHOOK_SECRET)
        if not secrets:
            raise CommandError(
                "TRUEDY_WEBHOOK_SECRET is empty: set it to the same value here and for the "
                "dashboard (e.g. TRUEDY_WEBHOOK_SECRET=whsec_demo in both environments)."
            )
        simulator = gateway.get_simulator()
        call_id = options["call"] or self._newest_ended(simulator)
        if call_id not in simulator.data.by_id:
            raise CommandError(f"The simulator has no call {call_id!r}.")
        payloads = [
            call_event(
                simulator, call_id, event, camel=options["camel"], with_id=not options["no_id"]
            )
            for event in options["event"] or ["call.ended"]
        ]
        signing: dict[str, Any] = {"age_seconds": TOLERANCE_SECONDS + 60 if options["stale"] else 0}
        if options["bad_signature"]:
            signing["secret"] = "whsec_wrong_" + secrets[-1]
        sender = WebhookSender(secrets[-1], options["url"])
        try:
            for payload in payloads:
                for _ in range(2 if options["duplicate"] else 1):
                    response = sender.send(payload, **signing)
                    self.stdout.write(
                        f"{payload['event']} for {call_id} -> {response.status_code} "
                        f"{response.text.strip()}".rstrip()
                    )
        except httpx.HTTPError as error:
            raise CommandError(f"Could not reach {options['url']}: {error}") from None
        finally:
            sender.close()

    @staticmethod
    def _newest_ended(simulator: Simulator) -> str:
        now = simulator.clock.now_us()
        ended = simulator.data.select(now, status="ended")
        if not ended:
            raise CommandError("The simulator has no ended call; pass --call.")
        return ended[0].id
