"""Signed, expiring recording links, as the real API hands them out."""

import hashlib
import hmac
from urllib.parse import quote

RECORDINGS_PATH = "/recordings/"
LINK_LIFETIME_SECONDS = 24 * 3600


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, call_id: str, expires: int) -> str:
        message = f"{call_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(self, origin: str, call_id: str, expires: int) -> str:
        signature = self.signature(call_id, expires)
        path = f"{RECORDINGS_PATH}{quote(call_id, safe='')}.mp3"
        return f"{origin}{path}?expires={expires}&signature={signature}"

    def verify(self, call_id: str, expires: str, signature: str) -> int | None:
        """The link's expiry (Unix seconds) if it was signed by us, else None."""
        if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            return None
        expected = self.signature(call_id, int(expires))
        if not hmac.compare_digest(expected, signature.lower()):
            return None
        return int(expires)


def secret_for_seed(seed: int) -> bytes:
    """Derived from the seed so the same seed hands out byte-identical links."""
    return hashlib.sha256(f"truedy-simulator-recordings:{seed}".encode()).digest()
