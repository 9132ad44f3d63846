"""`manage.py truedy_simulator`: serve the embedded Truedy simulator over HTTP."""

import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calls.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer, serve


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

    def handle(self, *args: Any, **options: Any) -> None:
        simulator = self.build(options)
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
        self.stdout.write("Quit with CONTROL-C.")
        self.ready.set()
        try:
            self.stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.shutdown()

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
