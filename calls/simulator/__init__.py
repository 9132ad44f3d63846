"""The embedded Truedy simulator: a fake of the Truedy Calls API.

It is the product's demo backend and the test suite's upstream. Pure Python (httpx + the
standard library): nothing here imports Django or the rest of `calls`.
"""

from .app import API_PREFIX, DEFAULT_API_KEY, Simulator, SimulatorTransport
from .clock import Clock
from .control import CONTROL_PREFIX
from .emitter import WebhookEmitter
from .messages import RecordedRequest
from .server import SimulatorServer, serve
from .switches import Switches
from .traffic import CallPlacer

__all__ = [
    "API_PREFIX",
    "CONTROL_PREFIX",
    "DEFAULT_API_KEY",
    "CallPlacer",
    "Clock",
    "RecordedRequest",
    "Simulator",
    "SimulatorServer",
    "SimulatorTransport",
    "Switches",
    "WebhookEmitter",
    "serve",
]
