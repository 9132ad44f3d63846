"""Settings come from the environment; production refuses an insecure configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
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


def test_production_starts_with_a_real_secret_key():
    result = run_check(DEBUG="false", SECRET_KEY="k" * 20 + "Zq9!" * 10)
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
    from calls import backend

    assert backend.uses_simulator()
    settings.TRUEDY_API_KEY = "truedy_" + "a" * 32
    assert not backend.uses_simulator()
