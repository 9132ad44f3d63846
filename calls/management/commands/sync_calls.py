"""``manage.py sync_calls``: run the archive's sync engine (calls.archive.sync) by hand, for a
backfill or to catch up after an outage. The background workers run it every few seconds."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.archive.sync import Sync, acquire_lock, failure, parse_since, release_lock
from calls.truedy.client import PAGE_LIMIT_MAX
from calls.truedy.errors import TruedyError
from calls.upstream import gateway

# Exit codes: 0 done (or another run holds the lock), 1 Truedy failed, 2 bad arguments.
EXIT_UPSTREAM = 1
EXIT_USAGE = 2


class Command(BaseCommand):
    help = (
        "Copy Truedy's calls, transcripts and recordings into the dashboard's archive. "
        "Resumable and idempotent. The background workers run it every few seconds; run it by "
        "hand for a backfill (--since) or to catch up after an outage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help="Sync calls created after this: 7d (days back) or an ISO 8601 date/time. "
            "Default: where the last run stopped (everything Truedy has, the first time).",
        )
        parser.add_argument(
            "--page-size",
            type=int,
            default=PAGE_LIMIT_MAX,
            help=f"Calls per GET /calls request, 1-{PAGE_LIMIT_MAX} (default {PAGE_LIMIT_MAX}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        page_size = options["page_size"]
        if not 1 <= page_size <= PAGE_LIMIT_MAX:
            raise CommandError(f"--page-size must be 1-{PAGE_LIMIT_MAX}", returncode=EXIT_USAGE)
        now = gateway.now()
        try:
            since = parse_since(options["since"], now) if options["since"] else None
        except ValueError as error:
            raise CommandError(str(error), returncode=EXIT_USAGE) from None
        if not acquire_lock():
            self.stderr.write("Another sync_calls run is in progress; nothing done.")
            return
        try:
            Sync(self.stdout, page_size=page_size, now=now, since=since).run()
        except TruedyError as error:
            raise CommandError(failure(error), returncode=EXIT_UPSTREAM) from error
        finally:
            release_lock()
