"""Settings come from the environment; production refuses an insecure configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def run_check(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check` (or another command) in a process of its own, with ``env`` set."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, *(command or ("manage.py", "check"))],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "secret_key",
    ["", "short", "django-insecure-" + "x" * 60],
    ids=["missing", "too-short", "django-insecure"],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    result = run_check(DEBUG="false", SECRET_KEY=secret_key)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "k" * 20 + "Zq9!" * 10}


def test_production_starts_with_a_real_secret_key(collected_static):
    result = run_check(**PRODUCTION, STATIC_ROOT=str(collected_static))
    assert result.returncode == 0, result.stderr


WSGI_START = ("-c", "import truedy_dashboard.wsgi")
RUNSERVER = ("manage.py", "runserver", "--noreload", "127.0.0.1:8399")


@pytest.mark.parametrize(
    "start",
    [RUNSERVER, WSGI_START, ("manage.py", "check", "--deploy")],
    ids=["runserver", "wsgi", "check --deploy"],
)
def test_production_without_collected_static_files_refuses_to_start(tmp_path, start):
    """Not a 500 on every page ("Missing staticfiles manifest entry"): no start, and the fix.
    Our runserver runs the check; gunicorn loads the WSGI module, which runs it too."""
    result = run_check(*start, **PRODUCTION, STATIC_ROOT=str(tmp_path))
    assert result.returncode != 0
    assert "Static files have not been collected" in result.stderr
    assert "manage.py collectstatic --noinput" in result.stderr


def test_the_wsgi_module_loads_once_static_files_are_collected(collected_static):
    result = run_check(*WSGI_START, **PRODUCTION, STATIC_ROOT=str(collected_static))
    assert result.returncode == 0, result.stderr


def test_a_deployment_migrates_before_it_collects_static_files(tmp_path):
    """Only a server start (and `check --deploy`) needs them: `migrate` does not."""
    result = run_check(
        "manage.py",
        "migrate",
        "--noinput",
        **PRODUCTION,
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert result.returncode == 0, result.stderr


def test_debug_runs_with_the_development_key():
    result = run_check(DEBUG="true", SECRET_KEY="")
    assert result.returncode == 0, result.stderr


def test_every_setting_read_is_listed_in_env_example():
    settings_source = (PROJECT / "truedy_dashboard" / "settings.py").read_text()
    example = (PROJECT / ".env.example").read_text()
    listed = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    assert read, "no env reads found: the pattern no longer matches settings.py"
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"


def test_without_a_key_the_simulator_is_the_backend(settings):
    from calls.upstream import gateway

    assert gateway.uses_simulator()
    settings.TRUEDY_API_KEY = "truedy_" + "a" * 32
    assert not gateway.uses_simulator()


def test_a_sqlite_file_is_opened_in_wal_mode_syncing_at_checkpoints(tmp_path):
    """`make run` and the load test: readers go on while one writes (WAL), and a commit does
    not wait for the disk (synchronous=NORMAL, 1) while the file stays safe."""
    read = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    print(c.execute('PRAGMA journal_mode').fetchone()[0],"
        " c.execute('PRAGMA synchronous').fetchone()[0])\n"
    )
    result = run_check(
        "-c",
        read,
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="truedy_dashboard.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]
