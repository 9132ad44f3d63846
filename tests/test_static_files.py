"""Static files in production: whitenoise serves `collectstatic`'s hashed copies, cached for a
year or more and compressed, audio never compressed, and the pages' CSP is unchanged."""

import re

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, override_settings
from whitenoise.compress import Compressor

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """`collectstatic` once for the module, as production runs it (the admin's files left out:
    compressing them is most of the time and tells nothing more)."""
    root = tmp_path_factory.mktemp("static")
    storages = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(
        DEBUG=False,
        STATIC_ROOT=root,
        STORAGES=storages,
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
    ) as production:
        call_command("collectstatic", "--noinput", "--ignore", "admin", verbosity=0)
        yield production


@pytest.fixture
def production_static(collected):
    return Client()  # a new handler: whitenoise reads STATIC_ROOT when it starts


def hashed_url(html: str, name: str) -> str:
    match = re.search(rf"/static/{name}\.[0-9a-f]{{12}}\.(?:css|js)", html)
    assert match, f"no hashed {name} in the page"
    return match.group()


def test_pages_link_hashed_files_served_for_ever(production_static):
    html = production_static.get("/accounts/login/").content.decode()
    css = hashed_url(html, "css/app")
    response = production_static.get(css)
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control and "public" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= YEAR
    assert b"".join(response.streaming_content).strip()


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_text_files_come_compressed_when_asked(production_static, encoding):
    html = production_static.get("/accounts/login/").content.decode()
    css = hashed_url(html, "css/app")
    response = production_static.get(css, HTTP_ACCEPT_ENCODING=encoding)
    assert response["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response["Vary"]
    plain = production_static.get(css)
    assert int(response["Content-Length"]) < int(plain["Content-Length"])


def test_unhashed_names_are_only_briefly_cached(production_static):
    response = production_static.get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


def test_static_files_need_no_sign_in_and_unknown_ones_are_404(production_static):
    assert production_static.get("/static/js/player.js").status_code == 200
    assert production_static.get("/static/nope.css").status_code in (302, 404)


def test_the_csp_still_holds_with_hashed_scripts(production_static):
    response = production_static.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "script-src 'self' 'nonce-" in csp and "style-src 'self'" in csp
    html = response.content.decode()
    script = hashed_url(html, "js/timezone")
    assert f'<script src="{script}" defer nonce="{nonce}">' in html


def test_audio_is_never_compressed(settings):
    compressor = Compressor(extensions=settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS, quiet=True)
    assert not compressor.should_compress("recordings/call.mp3")
    assert compressor.should_compress("css/app.css")


def test_production_settings_use_the_manifest_storage():
    """The tests run with DEBUG on (plain storage); production must hash."""
    import subprocess
    import sys

    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'], "
        "settings.MIDDLEWARE.index('whitenoise.middleware.WhiteNoiseMiddleware') - "
        "settings.MIDDLEWARE.index('django.middleware.security.SecurityMiddleware'))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Zq9!" * 10,
        "DJANGO_SETTINGS_MODULE": "truedy_dashboard.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["whitenoise.storage.CompressedManifestStaticFilesStorage", "1"]
