"""gunicorn's threaded worker, with two bounds on how long one connection may hold a thread.

gthread gives each connection a thread from the moment its first byte arrives, and then waits
as long as the client likes: eight clients sending a request head a byte at a time held a 1 x 8
instance for 75 s (a slow-loris), and eight that stopped reading a recording held it until
they left. So, for every connection:

- the request head (request line and headers) must be in within GUNICORN_HEADER_TIMEOUT
  seconds of the thread taking the connection, or the connection is cut;
- once the head is in, no single read or write may wait longer than GUNICORN_STALL_TIMEOUT
  seconds (a client that stops reading a stream is dropped then; one that reads slowly but
  steadily is not);
- a connection being closed lingers for its peer in its own thread, not the main loop.

Used by gunicorn.conf.py (``worker_class`` and the ``pre_request`` hook below); a buffering
proxy in front is not required.
"""

import contextlib
import os
import socket
import threading
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

HEADER_TIMEOUT = float(os.environ.get("GUNICORN_HEADER_TIMEOUT") or 3)
STALL_TIMEOUT = float(os.environ.get("GUNICORN_STALL_TIMEOUT") or 30)
WORKER_CLASS = "truedy_dashboard.gunicorn_worker.BoundedThreadWorker"

# The connection this thread is serving and the timer that cuts it if its head is late.
_serving = threading.local()


def _cut(conn: Any) -> None:
    """The head did not arrive in time: unblock the thread's read (it sees the end of input)."""
    with contextlib.suppress(OSError):  # already closed
        conn.sock.shutdown(socket.SHUT_RDWR)


class BoundedThreadWorker(ThreadWorker):
    def handle(self, conn: Any) -> Any:
        timer = threading.Timer(HEADER_TIMEOUT, _cut, args=(conn,))
        timer.daemon = True
        _serving.conn, _serving.timer = conn, timer
        timer.start()
        try:
            keep = super().handle(conn)
        finally:
            timer.cancel()
            _serving.conn = _serving.timer = None
        if keep is False:
            # Close it here: gunicorn's graceful close lingers up to 2 s for the peer to close
            # too, and it does so on the worker's main loop, where it would hold up every other
            # connection (a client that stopped reading never closes). It is then a no-op there.
            conn.close(graceful=True)
        return keep


def pre_request(worker: Any, req: Any) -> None:
    """gunicorn hook, called once a request's head has been read: stop the head's clock, and
    from now on bound each read and write instead (gunicorn resets this when the connection
    goes back to waiting for its next request)."""
    timer = getattr(_serving, "timer", None)
    if timer is not None:
        timer.cancel()
    conn = getattr(_serving, "conn", None)
    if conn is not None:
        conn.sock.settimeout(STALL_TIMEOUT)
    worker.log.debug("%s %s", req.method, req.path)
