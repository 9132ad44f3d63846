"""Pages, fragments and exports go gzipped to a browser that asks; audio never does; and the
CSRF token in a page differs in every response (BREACH: see CompressPagesMiddleware)."""

import gzip
import re

import pytest

from tests.views.test_recording import body, recorded_call

pytestmark = pytest.mark.django_db

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_page_is_gzipped_for_a_browser_that_asks(staff_client, frozen_simulator):
    plain = staff_client.get("/calls/")
    packed = staff_client.get("/calls/", headers=GZIP)
    assert packed.status_code == 200
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content).decode()
    assert "<table" in html
    assert len(packed.content) < len(plain.content) / 3


def test_an_htmx_fragment_and_the_csv_are_gzipped_too(staff_client, frozen_simulator):
    fragment = staff_client.get("/calls/", headers={**GZIP, "HX-Request": "true"})
    assert fragment["Content-Encoding"] == "gzip"
    export = staff_client.get("/calls/export.csv", headers=GZIP)
    assert export["Content-Encoding"] == "gzip"
    assert gzip.decompress(body(export)).decode("utf-8-sig").startswith("Call ID,")


def test_a_recording_and_its_ranges_are_never_gzipped(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    audio = call.recording.path.read_bytes()
    whole = staff_client.get(f"/calls/{call.id}/recording", headers=GZIP)
    assert not whole.has_header("Content-Encoding")
    assert body(whole) == audio
    part = staff_client.get(f"/calls/{call.id}/recording", headers={**GZIP, "Range": "bytes=0-99"})
    assert part.status_code == 206 and not part.has_header("Content-Encoding")
    assert body(part) == audio[:100]


def test_the_csrf_token_in_a_page_is_masked_afresh_every_time(staff_client, frozen_simulator):
    tokens = set()
    sizes = set()
    for _ in range(5):
        response = staff_client.get("/calls/", headers=GZIP)
        html = gzip.decompress(response.content).decode()
        tokens.add(re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1))
        sizes.add(len(response.content))
    assert len(tokens) == 5, "a token that repeats is one BREACH can guess byte by byte"
    assert len(sizes) > 1, "gzip's random padding (Heal the Breach) varies the length"
