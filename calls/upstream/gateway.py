"""Which Truedy the dashboard talks to: the real API when a key is set, else the embedded simulator.

One `TruedyClient` per process: it holds the connection pool and is thread-safe, so every
request and thread reuses the same connections.
"""

import threading
from datetime import datetime

from django.conf import settings

from calls.simulator import DEFAULT_API_KEY, Simulator
from calls.truedy.client import TruedyClient
from calls.upstream import budget

# In simulator mode the host is never resolved: the transport answers in-process.
SIMULATOR_BASE_URL = "http://simulator.truedy.local/api/public/v1"

_lock = threading.Lock()
_client: TruedyClient | None = None
_simulator: Simulator | None = None


def uses_simulator() -> bool:
    return not settings.TRUEDY_API_KEY


def get_simulator() -> Simulator:
    """The process-wide embedded simulator, built on first use (it seeds a few thousand calls)."""
    global _simulator
    with _lock:
        if _simulator is None:
            _simulator = Simulator(
                seed=settings.TRUEDY_SIMULATOR_SEED, call_count=settings.TRUEDY_SIMULATOR_CALLS
            )
            _simulator.switches.latency_seconds = settings.TRUEDY_SIMULATOR_LATENCY_MS / 1000
        return _simulator


def now() -> datetime:
    """The upstream's "now": the simulator's clock when it is the backend, else Truedy's clock
    as its answers show it (ours, corrected by the skew they revealed).

    Whether a transcript is still processing or a recording link has expired is judged against
    the timestamps Truedy sends, so it must be judged on the same clock.
    """
    if uses_simulator():
        return get_simulator().clock.now()
    return get_client().upstream_now()


def get_client() -> TruedyClient:
    global _client
    if _client is not None:
        return _client
    simulator = get_simulator() if uses_simulator() else None
    with _lock:
        if _client is None:
            _client = TruedyClient(
                base_url=SIMULATOR_BASE_URL if simulator else settings.TRUEDY_API_BASE_URL,
                api_key=DEFAULT_API_KEY if simulator else settings.TRUEDY_API_KEY,
                transport=simulator.transport() if simulator else None,
                connect_timeout=settings.TRUEDY_CONNECT_TIMEOUT,
                read_timeout=settings.TRUEDY_READ_TIMEOUT,
                max_attempts=settings.TRUEDY_MAX_ATTEMPTS,
                max_retry_wait=settings.TRUEDY_MAX_RETRY_WAIT,
                recording_hosts=settings.TRUEDY_RECORDING_HOSTS or None,
                # Every API request takes a token from the shared, paced budget first.
                before_request=budget.before_request,
            )
        return _client


def reset() -> None:
    """Forget the client and simulator so the next use rebuilds them from settings (tests)."""
    global _client, _simulator
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _simulator = None
