"""gunicorn.conf.py: what an anonymous client can make the server read, and what its access
log keeps."""

import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture
def config(monkeypatch) -> dict:
    for name in (
        "GUNICORN_LIMIT_REQUEST_LINE",
        "GUNICORN_LIMIT_REQUEST_FIELD_SIZE",
        "GUNICORN_LIMIT_REQUEST_FIELDS",
    ):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(CONFIG))


def test_request_lines_and_headers_are_capped_below_gunicorns_defaults(config):
    assert config["limit_request_line"] == 2048  # gunicorn: 4094
    assert config["limit_request_field_size"] == 4096  # gunicorn: 8190
    assert config["limit_request_fields"] == 50  # gunicorn: 100


def test_the_access_log_names_the_path_without_its_query(config):
    """Queries carry transcript search terms and phone numbers; the access log is written
    outside the application's redaction."""
    line_format = config["access_log_format"]
    assert "%(U)s" in line_format
    for atom in ("%(r)s", "%(q)s", "%({raw_uri}e)s"):
        assert atom not in line_format


def test_the_config_runs_our_bounded_worker(config):
    from truedy_dashboard import gunicorn_worker

    assert config["worker_class"] == gunicorn_worker.WORKER_CLASS
    assert config["pre_request"] is gunicorn_worker.pre_request


class _Conn:
    def __init__(self, sock):
        self.sock = sock


class _Log:
    def debug(self, *args):
        pass


class _Worker:
    log = _Log()


class _Request:
    method, path = "GET", "/healthz"


def test_once_the_head_is_in_its_clock_stops_and_each_read_or_write_is_bounded():
    import socket
    import threading

    from truedy_dashboard import gunicorn_worker

    ours, theirs = socket.socketpair()
    timer = threading.Timer(60, lambda: None)
    timer.start()
    gunicorn_worker._serving.conn, gunicorn_worker._serving.timer = _Conn(ours), timer
    try:
        gunicorn_worker.pre_request(_Worker(), _Request())
        assert timer.finished.is_set(), "the head's timer is cancelled"
        assert ours.gettimeout() == gunicorn_worker.STALL_TIMEOUT
    finally:
        gunicorn_worker._serving.conn = gunicorn_worker._serving.timer = None
        ours.close()
        theirs.close()


def test_a_late_head_is_cut_so_the_blocked_read_returns():
    import socket

    from truedy_dashboard import gunicorn_worker

    ours, theirs = socket.socketpair()
    theirs.sendall(b"GET /heal")  # and nothing more
    ours.recv(9)
    gunicorn_worker._cut(_Conn(ours))
    assert ours.recv(10) == b""  # what gunicorn's parser sees: the end of input
    gunicorn_worker._cut(_Conn(ours))  # twice, or on a closed socket: harmless
    ours.close()
    theirs.close()
