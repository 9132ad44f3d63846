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
