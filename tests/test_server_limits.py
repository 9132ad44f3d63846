"""A 1 x 8 gunicorn instance (the deployment's own config and worker) stays up for everyone
while clients dawdle: slow-loris request heads, clients that never read a recording, storage
that drips. Each test measures /healthz from a fresh connection while the bad clients hold on.

The dashboard runs in real-key mode against a simulator served over HTTP from this process.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.harness import GUNICORN_CONF, Gunicorn, dashboard_env, free_port, sign_in
from calls.simulator import Simulator, serve
from tests.shifted_clock import subprocess_env
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "night-shift", "a long enough password 42"
HEADER_TIMEOUT = 2
STALL_TIMEOUT = 3
THROUGHPUT_WINDOW = 3


@pytest.fixture(scope="module")
def truedy():
    """The simulator, following the clock, served over HTTP; (simulator, its API base URL)."""
    simulator = Simulator(seed=42, call_count=400)
    server = serve(simulator, host="127.0.0.1", port=0)
    yield simulator, server.base_url
    server.shutdown()


@pytest.fixture(scope="module")
def instance(truedy, collected_static, tmp_path_factory):
    """gunicorn with 1 worker x 8 threads, 4 recording streams at most, short bounds."""
    tmp = tmp_path_factory.mktemp("server-limits")
    simulator, base_url = truedy
    env = dashboard_env(
        base_url=base_url,
        api_key=simulator.api_key,
        database_url=f"sqlite:///{tmp}/db.sqlite3",
        cache_url="locmemcache://",
        static_root=collected_static,
    )
    env = subprocess_env(env)
    env.update(
        GUNICORN_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        GUNICORN_STALL_TIMEOUT=str(STALL_TIMEOUT),
        RECORDING_STREAMS_MAX="4",
        RECORDING_STREAMS_PER_USER="4",
        RECORDING_THROUGHPUT_WINDOW=str(THROUGHPUT_WINDOW),
        LOG_LEVEL="WARNING",
    )
    make_user = (
        "from django.contrib.auth import get_user_model\n"
        f"u = get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})\n"
        "u.is_staff = True\nu.save()\n"
    )
    for command in (["migrate", "--noinput"], ["shell", "-c", make_user]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command, "-v", "0"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    server = Gunicorn(env, free_port(), 1, 8, tmp, config=GUNICORN_CONF)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def healthz_seconds(instance: Gunicorn) -> float:
    started = time.monotonic()
    response = httpx.get(instance.base + "/healthz", timeout=30)
    assert response.status_code == 200
    return time.monotonic() - started


def signed_in_cookie(instance: Gunicorn) -> str:
    with httpx.Client(base_url=instance.base, timeout=10) as client:
        assert sign_in(client, USERNAME, PASSWORD)
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def raw_request(instance: Gunicorn, head: bytes, *, receive_buffer: int | None = None):
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", instance.port))
    sock.sendall(head)
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True once the server has closed or reset the connection (reading what it sent)."""
    sock.settimeout(0.2)
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def recording_request(instance: Gunicorn, call_id: str, cookie: str) -> bytes:
    return (
        f"GET /calls/{call_id}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
    ).encode()


def cut_short(stream: httpx.Response) -> int:
    """Bytes read before the server ended the response short of its Content-Length."""
    size = 0
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete"):
        for chunk in stream.iter_raw():
            size += len(chunk)
    stream.close()  # as a browser does with a broken response
    return size


def test_slow_loris_request_heads_are_cut_and_the_instance_answers(instance):
    """Eight clients send a request head a byte at a time, as many as the instance has threads."""
    slow = [
        raw_request(instance, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") for _ in range(8)
    ]
    for _ in range(3):  # keep dripping, one header byte a second
        for sock in slow:
            sock.sendall(b"X")
        time.sleep(1)
    assert healthz_seconds(instance) < HEADER_TIMEOUT + 2
    assert all(closed_by_server(sock, within=HEADER_TIMEOUT + 2) for sock in slow)
    for sock in slow:
        sock.close()


def test_clients_that_never_read_a_recording_leave_threads_for_everyone(instance, truedy):
    simulator, _ = truedy
    cookie = signed_in_cookie(instance)
    call = recorded_call(simulator)
    stalled = [
        raw_request(instance, recording_request(instance, call.id, cookie), receive_buffer=4096)
        for _ in range(8)
    ]
    time.sleep(1)
    assert healthz_seconds(instance) < 2
    # Four streams at most: the others were told to come back (503, Retry-After).
    with httpx.Client(base_url=instance.base, timeout=10, headers={"Cookie": cookie}) as client:
        time.sleep(STALL_TIMEOUT + 1)  # the stalled writes are dropped by now
        # ... and closing them, which waits for peers that never close, holds no one else up.
        assert healthz_seconds(instance) < 1.5
        response = client.get(f"/calls/{call.id}/recording")
        assert response.status_code == 200, "the slots came back"
        assert response.content == call.recording.path.read_bytes()
    for sock in stalled:
        sock.close()


def test_storage_that_drips_ends_the_stream_and_frees_its_thread(instance, truedy):
    simulator, _ = truedy
    cookie = signed_in_cookie(instance)
    call = recorded_call(simulator)
    simulator.switches.drip_recordings(chunk_bytes=16, every_seconds=0.5)
    try:
        with httpx.Client(base_url=instance.base, timeout=30, headers={"Cookie": cookie}) as client:
            url = f"/calls/{call.id}/recording"
            streams = [client.send(client.build_request("GET", url), stream=True) for _ in range(6)]
            statuses = sorted(stream.status_code for stream in streams)
            assert statuses == [200] * 4 + [503] * 2
            assert all(
                stream.headers["Retry-After"] == "5"
                for stream in streams
                if stream.status_code == 503
            )
            assert healthz_seconds(instance) < 2
            started = time.monotonic()
            received = [cut_short(stream) for stream in streams if stream.status_code == 200]
            took = time.monotonic() - started
            for stream in streams:
                stream.close()
        assert all(size < 1024 for size in received), "ended early, not played to the end"
        assert took < THROUGHPUT_WINDOW + 3
    finally:
        simulator.switches.reset()
