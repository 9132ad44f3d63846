"""What a recording link may point at, and what its answer may be (the SSRF and script rules).

A recording link comes from Truedy's answer, which we do not control: fetched as it is, it made
the dashboard a proxy into its own network (loopback, Redis's port, the cloud's metadata
address) and, served from our origin, a way to run script as the staff member who opened it.

- Hosts: only Truedy's storage hosts (``https``, port 443 or one given with the host) and the
  API's own origin. Checked before the request.
- Addresses: a storage host must resolve to public addresses only, checked at connect time on
  the addresses actually dialled, so a DNS answer that changes between check and use (rebinding)
  cannot reach a private one. The API's own host is exempt: it already has our key.
- Answers: only audio types are played; anything else is refused, never passed on.

Pure Python + httpx/httpcore: no Django.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable

import certifi
import httpcore
import httpx

HTTPS_PORT = 443

# What a browser may be handed from our origin as a recording, by the type storage declared.
AUDIO_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/mp3",
        "audio/mp4",
        "audio/aac",
        "audio/ogg",
        "audio/opus",
        "audio/wav",
        "audio/x-wav",
        "audio/wave",
        "audio/webm",
        "audio/flac",
    }
)
# Object stores answer these for files uploaded without a type: Truedy's links are MP3s.
UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MP3 = "audio/mpeg"


def playable_type(content_type: str | None) -> str | None:
    """The audio type to serve an answer as, or None when it is not audio (HTML, script, SVG,
    JSON, ...): such an answer is refused, never served from our origin."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in AUDIO_TYPES:
        return kind
    return MP3 if kind in UNTYPED else None


class StorageHosts:
    """The hosts recording links may use: exact names, ``.example.com`` for any subdomain of
    example.com, either with ``:port`` for a port other than 443."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._exact: set[tuple[str, int]] = set()
        self._suffixes: set[tuple[str, int]] = set()
        for pattern in patterns:
            name, _, port = pattern.strip().lower().rpartition(":")
            if not name or not port.isdigit():
                name, port = pattern.strip().lower(), str(HTTPS_PORT)
            if not name:
                continue
            target = self._suffixes if name.startswith(".") else self._exact
            target.add((name, int(port)))

    @classmethod
    def default_for(cls, api_base_url: str) -> StorageHosts:
        """Truedy's own domain and its subdomains (``api.truedy.ai`` -> ``.truedy.ai``); none
        when the API is addressed by IP (a local simulator: only its origin is allowed)."""
        host = httpx.URL(api_base_url).host
        labels = host.split(".")
        if _is_ip(host) or len(labels) < 2:
            return cls(())
        return cls(["." + ".".join(labels[-2:])])

    def allows(self, url: httpx.URL) -> bool:
        if url.scheme != "https" or not url.host:
            return False
        host, port = url.host.lower(), url.port or HTTPS_PORT
        if (host, port) in self._exact:
            return True
        return any(host.endswith(suffix) and port == allowed for suffix, allowed in self._suffixes)


def is_public_address(address: str) -> bool:
    """Only addresses routed on the public internet: no private, loopback, link-local, unique
    local (fc00::/7), shared (100.64.0.0/10, CGNAT), multicast, reserved or unspecified ones."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PublicAddressBackend(httpcore.SyncBackend):
    """httpcore's socket backend, dialling a host only when every address it resolves to is
    public, and then one of exactly those addresses (hosts in ``trusted`` are dialled as is)."""

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self._trusted = frozenset(host.lower() for host in trusted)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower() in self._trusted:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError("the recording host could not be resolved") from exc
        addresses = [str(info[4][0]) for info in found]
        if not addresses or not all(is_public_address(address) for address in addresses):
            raise httpcore.ConnectError("the recording host is not on a public address")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class PublicAddressTransport(httpx.HTTPTransport):
    """httpx's transport over ``PublicAddressBackend`` (TLS still checks the host's name)."""

    def __init__(self, *, trusted: Iterable[str], limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicAddressBackend(trusted),
        )
