"""calls.truedy.media_guard and its use: a recording link reaches only Truedy's storage on public
addresses (SSRF), and only audio is served from our origin (script through the proxy)."""

import socket
import threading
import time

import httpcore
import httpx
import pytest

from calls.archive import recordings, store
from calls.truedy.client import LINK_REFUSED, TruedyClient
from calls.truedy.errors import RecordingUnavailable
from calls.truedy.media_guard import (
    PublicAddressBackend,
    StorageHosts,
    is_public_address,
    playable_type,
)
from calls.upstream import gateway
from calls.views.downloads import MEDIA_CSP
from tests.payloads import API_KEY, BASE_URL
from tests.views.test_recording import body, recorded_call

# --- what an answer may be served as --------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("audio/mpeg", "audio/mpeg"),
        ("Audio/MPEG; charset=binary", "audio/mpeg"),
        ("audio/wav", "audio/wav"),
        ("application/octet-stream", "audio/mpeg"),
        ("binary/octet-stream", "audio/mpeg"),
        (None, "audio/mpeg"),
        ("text/html", None),
        ("text/html; charset=utf-8", None),
        ("application/javascript", None),
        ("text/javascript", None),
        ("image/svg+xml", None),
        ("application/xhtml+xml", None),
        ("text/xml", None),
        ("application/json", None),
        ("text/plain", None),
        ("audio/mpeg, text/html", None),
    ],
)
def test_only_audio_is_playable(declared, served):
    assert playable_type(declared) == served


# --- which hosts and addresses a link may reach --------------------------------------------

DEFAULT = StorageHosts.default_for(BASE_URL)  # https://api.truedy.test/...: ".truedy.test"


@pytest.mark.parametrize(
    "url",
    [
        "https://storage.truedy.test/rec/a.mp3?sig=1",
        "https://cdn.eu.storage.truedy.test/a.mp3",
        "https://storage.truedy.test:443/a.mp3",
    ],
)
def test_truedys_own_domain_is_a_storage_host_by_default(url):
    assert DEFAULT.allows(httpx.URL(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://storage.truedy.test/a.mp3",  # not https
        "https://storage.truedy.test:6379/a.mp3",  # Redis's port
        "https://storage.truedy.test:8443/a.mp3",
        "https://evil.test/a.mp3",
        "https://truedy.test.evil.test/a.mp3",
        "https://nottruedy.test/a.mp3",
        "https://localhost/a.mp3",
        "https://127.0.0.1/a.mp3",
        "https://2130706433/a.mp3",  # decimal 127.0.0.1
        "https://0x7f000001/a.mp3",  # hex
        "https://127.1/a.mp3",  # short form
        "https://[::1]/a.mp3",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/a.mp3",
    ],
)
def test_anything_else_is_not(url):
    assert not DEFAULT.allows(httpx.URL(url))


def test_configured_hosts_replace_the_default_and_may_name_a_port():
    hosts = StorageHosts(["recordings.example.com:8443", ".cdn.example.net"])
    assert hosts.allows(httpx.URL("https://recordings.example.com:8443/a.mp3"))
    assert not hosts.allows(httpx.URL("https://recordings.example.com/a.mp3"))
    assert hosts.allows(httpx.URL("https://eu.cdn.example.net/a.mp3"))
    assert not hosts.allows(httpx.URL("https://storage.truedy.test/a.mp3"))


def test_an_api_addressed_by_ip_allows_only_its_own_origin():
    assert not StorageHosts.default_for("http://127.0.0.1:8765/api/public/v1").allows(
        httpx.URL("https://0.1/a.mp3")
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # link-local: cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",  # noqa: S104 (an address judged, not bound)
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",  # unique local
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::",
        "not an address",
    ],
)
def test_private_loopback_link_local_ula_and_cgnat_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_internet_addresses_are(address):
    assert is_public_address(address)


@pytest.fixture
def listener():
    """A TCP port on loopback that counts the connections it is offered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(connection)
            connection.close()

    stop = threading.Event()
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def resolving_to(monkeypatch, *addresses: str) -> None:
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "answers", [("127.0.0.1",), ("8.8.8.8", "127.0.0.1")], ids=["loopback", "mixed"]
)
def test_a_storage_host_that_resolves_to_a_private_address_is_never_dialled(
    monkeypatch, listener, answers
):
    """DNS says loopback (or rebinds to it): refused on the addresses actually resolved."""
    port, accepted = listener
    resolving_to(monkeypatch, *answers)
    with pytest.raises(httpcore.ConnectError, match="not on a public address"):
        PublicAddressBackend().connect_tcp("storage.truedy.test", port, timeout=1)
    assert accepted == []


def test_the_apis_own_host_is_dialled_as_it_is(listener):
    """A simulator or self-hosted Truedy on a private address: its own origin is trusted."""
    port, accepted = listener
    PublicAddressBackend(trusted=["127.0.0.1"]).connect_tcp("127.0.0.1", port, timeout=1).close()
    for _ in range(50):
        if accepted:
            break
        time.sleep(0.02)
    assert len(accepted) == 1


def test_a_configured_host_on_loopback_is_refused_at_connect_time(listener, monkeypatch):
    """Through the client's real transport: allowed by name, refused by address, and the
    error says nothing of the port (a closed and a silent port look the same)."""
    port, accepted = listener
    client = TruedyClient(base_url=BASE_URL, api_key=API_KEY, recording_hosts=[f"localhost:{port}"])
    monkeypatch.setattr(client, "_sleep", lambda seconds: None)
    with pytest.raises(Exception) as excinfo:
        client.open_recording(f"https://localhost:{port}/rec.mp3?signature=x")
    assert excinfo.value.message == "Truedy could not be reached"
    assert accepted == []


def test_a_link_off_the_storage_hosts_is_refused_before_any_request(listener):
    port, accepted = listener
    client = TruedyClient(base_url=BASE_URL, api_key=API_KEY)
    for url in (f"https://127.0.0.1:{port}/a.mp3", f"https://localhost:{port}/a.mp3"):
        with pytest.raises(RecordingUnavailable) as excinfo:
            client.open_recording(url)
        assert excinfo.value.code == LINK_REFUSED
    assert accepted == []


# --- the proxy and the archive ----------------------------------------------------------------

HOSTILE = b"<script>fetch('/calls/views/', {method: 'POST'})</script>"


def storage_answering(monkeypatch, content_type: str) -> None:
    """The dashboard's recording pool now talks to a storage host that answers this type."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": content_type}, content=HOSTILE)

    client = gateway.get_client()
    monkeypatch.setattr(client, "_media", httpx.Client(transport=httpx.MockTransport(handle)))


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "content_type", ["text/html", "application/javascript", "image/svg+xml", "text/xml"]
)
def test_the_proxy_refuses_what_is_not_audio(
    staff_client, frozen_simulator, monkeypatch, content_type
):
    call = recorded_call(frozen_simulator)
    storage_answering(monkeypatch, content_type)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 502
    text = response.content.decode()
    assert "not audio" in text
    assert "<script>fetch" not in text
    assert response["Content-Type"].startswith("text/html")  # our own error page
    assert "inline" not in response.get("Content-Disposition", "")


def test_audio_is_served_sandboxed(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    body(response)


def test_the_archive_never_stores_what_is_not_audio(frozen_simulator, monkeypatch):
    call = gateway.get_client().get_call(recorded_call(frozen_simulator).id)
    archived = store.store_call(call, source="sync", copy=False)
    storage_answering(monkeypatch, "text/html")
    assert recordings.copy_recording(archived, call) is False
    archived.refresh_from_db()
    assert not archived.recording


def test_a_refused_link_names_no_exception_on_the_page(staff_client, frozen_simulator, monkeypatch):
    call = recorded_call(frozen_simulator)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = gateway.get_client()
    monkeypatch.setattr(client, "_sleep", lambda seconds: None)
    monkeypatch.setattr(client, "_media", httpx.Client(transport=httpx.MockTransport(refuse)))
    response = staff_client.get(f"/calls/{call.id}/recording")
    text = response.content.decode()
    assert response.status_code == 502
    assert "Truedy is unreachable" in text
    assert "ConnectError" not in text and "Errno" not in text and "111" not in text
