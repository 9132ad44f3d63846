"""`manage.py truedy_simulator`: serve the embedded Truedy simulator over HTTP, optionally
placing new calls as time passes and sending Truedy's webhooks about them."""

import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calls.simulator import (
    DEFAULT_API_KEY,
    CallPlacer,
    Simulator,
    SimulatorServer,
    WebhookEmitter,
    serve,
)
from calls.simulator.webhooks import WebhookSender
from calls.truedy.webhooks import configured_secrets


def build_simulator(
    *,
    calls: int,
    seed: int,
    latency_ms: int = 0,
    rate_limit_per_minute: int | None = None,
    variant: str = "primary",
) -> Simulator:
    simulator = Simulator(seed=seed, call_count=calls)
    simulator.switches.latency_seconds = latency_ms / 1000
    simulator.switches.rate_limit_per_minute = rate_limit_per_minute
    simulator.switches.variant = variant  # type: ignore[assignment]
    return simulator


class Command(BaseCommand):
    help = "Serve the Truedy simulator (a fake Truedy Calls API) until Ctrl-C."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set from another thread to stop serving: lets tests run the command without Ctrl-C.
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.server: SimulatorServer | None = None
        self.emitter: WebhookEmitter | None = None
        self.placer: CallPlacer | None = None

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument(
            "--calls", type=int, default=None, help="default: settings.TRUEDY_SIMULATOR_CALLS"
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="default: settings.TRUEDY_SIMULATOR_SEED"
        )
        parser.add_argument(
            "--latency-ms",
            type=int,
            default=None,
            help="added to every response; default: settings.TRUEDY_SIMULATOR_LATENCY_MS",
        )
        parser.add_argument("--rate-limit-per-minute", type=int, default=None)
        parser.add_argument("--variant", choices=("primary", "reference"), default="primary")
        parser.add_argument(
            "--webhook-url",
            default=None,
            help="send Truedy's webhooks (call.started, call.ended, call.failed, call.analyzed) "
            "to this URL as the simulator's calls change; default: none sent",
        )
        parser.add_argument(
            "--webhook-secret",
            default=None,
            help="signs them; default: settings.TRUEDY_WEBHOOK_SECRET (its last, when several)",
        )
        parser.add_argument(
            "--new-call-every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="place a new call every SECONDS (ringing 3 s, talking 20 s); default 0: none",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options.get("new_call_every") or 0
        if every < 0:
            raise CommandError("--new-call-every must be >= 0")
        sender = self.webhook_sender(options)
        try:
            self.run_server(self.build(options), options, sender=sender, new_call_every=every)
        finally:
            if sender is not None:
                sender.close()

    def run_server(
        self,
        simulator: Simulator,
        options: dict[str, Any],
        *,
        sender: WebhookSender | None,
        new_call_every: float,
    ) -> None:
        """Serve until `stop` is set or Ctrl-C, with the emitter and placer asked for."""
        try:
            self.server = serve(simulator, host=options["host"], port=options["port"])
        except OSError as error:
            where = f"{options['host']}:{options['port']}"
            raise CommandError(f"cannot listen on {where}: {error}") from error
        self.stdout.write(
            f"Truedy simulator: {len(simulator.data.calls)} calls (seed {simulator.seed}), "
            f"serving {self.server.base_url}"
        )
        self.stdout.write("Point the dashboard at it with:")
        self.stdout.write(
            f"  TRUEDY_API_BASE_URL={self.server.base_url} TRUEDY_API_KEY={DEFAULT_API_KEY}"
        )
        self.stdout.write(f"Place a call: POST {self.server.place_call_url} (same key)")
        if sender is not None:
            self.emitter = WebhookEmitter(simulator, sender)
            self.emitter.start()
            self.stdout.write(f"Webhooks: sending call events to {sender.url}")
        if new_call_every > 0:
            self.placer = CallPlacer(simulator, every_seconds=new_call_every)
            self.placer.start()
            self.stdout.write(f"New calls: one every {new_call_every:g} s")
        self.stdout.write("Quit with CONTROL-C.")
        self.ready.set()
        try:
            self.stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if self.placer is not None:
                self.placer.stop()
            if self.emitter is not None:
                self.emitter.stop()
            self.server.shutdown()

    def webhook_sender(self, options: dict[str, Any]) -> WebhookSender | None:
        """The sender for `--webhook-url`, signing with `--webhook-secret` or the setting's
        newest secret; None without a URL."""
        url = options.get("webhook_url")
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise CommandError("--webhook-url must be an http:// or https:// URL")
        configured = configured_secrets(getattr(settings, "TRUEDY_WEBHOOK_SECRET", ""))
        secret = options.get("webhook_secret") or (configured[-1] if configured else "")
        if not secret:
            raise CommandError(
                "--webhook-url needs a secret: pass --webhook-secret or set "
                "TRUEDY_WEBHOOK_SECRET (the dashboard must have the same)"
            )
        return WebhookSender(secret, url)

    def build(self, options: dict[str, Any]) -> Simulator:
        calls = _or(options.get("calls"), getattr(settings, "TRUEDY_SIMULATOR_CALLS", 2000))
        seed = _or(options.get("seed"), getattr(settings, "TRUEDY_SIMULATOR_SEED", 42))
        latency_ms = _or(
            options.get("latency_ms"), getattr(settings, "TRUEDY_SIMULATOR_LATENCY_MS", 0)
        )
        rate = options.get("rate_limit_per_minute")
        if calls < 0 or latency_ms < 0 or (rate is not None and rate < 1):
            raise CommandError(
                "--calls and --latency-ms must be >= 0, --rate-limit-per-minute >= 1"
            )
        return build_simulator(
            calls=calls,
            seed=seed,
            latency_ms=latency_ms,
            rate_limit_per_minute=rate,
            variant=options.get("variant") or "primary",
        )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
