"""The simulator over real HTTP: a threaded WSGI server in a daemon thread."""

import socketserver
import threading
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import API_PREFIX, Simulator
from .control import CALLS_PATH


class _QuietHandler(WSGIRequestHandler):
    server: WSGIServer  # the server it is made for (socketserver types it as any BaseServer)

    def log_message(self, format: str, *args: Any) -> None:
        """Tests and the demo don't want an access log on stderr."""

    def handle(self) -> None:
        # As WSGIRequestHandler.handle, with a handler that tolerates clients hanging up.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _QuietServerHandler(
            self.rfile,
            # typeshed: a BufferedIOBase where ServerHandler wants IO[bytes]; it only writes
            # and flushes it, as in WSGIRequestHandler.handle.
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        app = self.server.get_app()
        assert app is not None  # SimulatorServer sets it before serving
        handler.run(app)


class _QuietServerHandler(ServerHandler):
    request_handler: WSGIRequestHandler  # set by the handler, read by ServerHandler.close()

    def log_exception(self, exc_info: Any) -> None:
        if not issubclass(exc_info[0], ConnectionError):
            super().log_exception(exc_info)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request sleeping in timeout_next must not block shutdown
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response (timeouts, aborted Range reads) are normal here."""


class SimulatorServer:
    def __init__(self, simulator: Simulator, host: str, port: int) -> None:
        self.simulator = simulator
        self._httpd = _ThreadingWSGIServer((host, port), _QuietHandler)
        self._httpd.set_app(simulator.wsgi_app)
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"truedy-simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    @property
    def place_call_url(self) -> str:
        """POST here, with the API key, to place a call (calls/simulator/control.py)."""
        return self.origin + CALLS_PATH

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "SimulatorServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """Start serving `simulator` on host:port (0 picks a free port) and return at once."""
    return SimulatorServer(simulator, host, port)
