"""What the benchmarks share: a Redis database to flush, the dashboard's environment, a temporary
database with a staff user, gunicorn in a subprocess, and percentiles.

Nothing here imports Django: the scripts that use it run gunicorn (and `manage.py`) in
subprocesses, or set Django up themselves.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from truedy_dashboard.gunicorn_worker import WORKER_CLASS

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"  # the deployment's own settings, when there is one
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOG_LINE_RE = re.compile(r"\d{4}-\d\d-\d\d [\d:,]+ ([A-Z]+) (\S+) (.*)")
GUNICORN_LINE_RE = re.compile(r"\[[^]]+\] \[\d+\] \[([A-Z]+)\] (.*)")


def redis_cache_url(db: int) -> str | None:
    """Flush Redis database `db` and return its URL, or None if Redis is not there."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            conn.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return None
    if answer != b"+OK\r\n+OK\r\n":
        return None
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dashboard_env(
    *, base_url: str, api_key: str, database_url: str, cache_url: str, static_root: Path
) -> dict[str, str]:
    """The dashboard in production mode (DEBUG off) on plain http at 127.0.0.1, talking to the
    Truedy at `base_url` (the simulator over HTTP), its static files collected in `static_root`."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        DEBUG="false",  # the Makefile exports DEBUG=true
        SECRET_KEY=secrets.token_urlsafe(45)[:60],
        ALLOWED_HOSTS="127.0.0.1,testserver",
        TRUEDY_API_KEY=api_key,
        TRUEDY_API_BASE_URL=base_url,
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        STATIC_ROOT=str(static_root),
        # Production security settings that assume TLS: this serves plain http on 127.0.0.1.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare_database(env: dict[str, str], username: str, password: str) -> None:
    """Collect the static files (DEBUG off serves hashed names from a manifest), migrate the
    temporary database and add a staff user who signs in with `password`."""
    create_user = (
        "import os\n"
        "from django.contrib.auth import get_user_model\n"
        f"u, _ = get_user_model().objects.get_or_create(username={username!r})\n"
        "u.is_staff = True\n"
        "u.set_password(os.environ['BENCH_PASSWORD'])\n"
        "u.save()\n"
    )
    for command in (
        ["collectstatic", "--noinput"],
        ["migrate", "--noinput"],
        ["shell", "-c", create_user],
    ):
        done = subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), *command, "-v", "0"],
            env={**env, "BENCH_PASSWORD": password, "LOG_LEVEL": "WARNING"},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            raise RuntimeError(f"manage.py {command[0]} failed ({done.returncode})")


def sign_in(client: httpx.Client, username: str, password: str) -> bool:
    """Sign in through the login form, as a person does; the client keeps the session cookie."""
    page = client.get("/accounts/login/")
    token = CSRF_RE.search(page.text)
    if page.status_code != 200 or token is None:
        return False
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{client.base_url}accounts/login/"},
    )
    return response.status_code == 302 and "/login" not in response.headers.get("Location", "")


class Gunicorn:
    def __init__(
        self,
        env: dict[str, str],
        port: int,
        workers: int,
        threads: int,
        tmp: Path,
        *,
        config: Path | None = None,
        access_log: bool = True,
    ):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.error_log = tmp / "gunicorn-stderr.log"
        self.access_log = tmp / "gunicorn-access.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "truedy_dashboard.wsgi:application",
            # Given on the command line, these win over the config file's.
            *(["--config", str(config)] if config else []),
            "--worker-class",
            WORKER_CLASS,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
            "--graceful-timeout",
            "10",
        ]
        if access_log:
            command += [
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(B)s %(M)sms',
            ]
        self._stderr = self.error_log.open("wb")
        # Its own session: a Ctrl-C reaches the script only, which then stops gunicorn cleanly.
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=ROOT,
            stdout=self._stderr,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                if httpx.get(self.base + "/accounts/login/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._stderr.close()

    def log_summary(self) -> dict[str, int]:
        """Warnings and errors in gunicorn's stderr, counted by kind (numbers and ids dropped)."""
        counts: Counter[str] = Counter()
        try:
            lines = self.error_log.read_text(errors="replace").splitlines()
        except OSError:
            return {}
        for line in lines:
            django = LOG_LINE_RE.match(line)
            record = _json_record(line)
            if record:  # LOG_FORMAT=json, the production default
                level, logger, message = record
            elif django:
                level, logger, message = django.groups()
            elif line.startswith("Traceback"):
                level, logger, message = "ERROR", "python", "Traceback"
            else:
                gunicorn = GUNICORN_LINE_RE.match(line)
                if not gunicorn:
                    continue
                level, logger, message = gunicorn.group(1), "gunicorn", gunicorn.group(2)
            if level in ("WARNING", "ERROR", "CRITICAL"):
                kind = re.sub(r"[0-9a-f-]{8,}|\d+(\.\d+)?", "N", message.split(": /")[0])[:90]
                counts[f"{level} {logger} {kind}"] += 1
        return dict(counts.most_common())

    def log_tail(self, lines: int = 40) -> str:
        """The end of gunicorn's stderr without the lines counted by kind in the summary that
        repeat for every such response (Django's "Service Unavailable") or sign-in (axes)."""
        try:
            text = self.error_log.read_text(errors="replace")
        except OSError:
            return ""
        kept = [
            line
            for line in text.splitlines()
            if "django.request Service Unavailable" not in line and " INFO axes." not in line
        ]
        return "\n".join(kept[-lines:])


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _json_record(line: str) -> tuple[str, str, str] | None:
    """(level, logger, message) of one JSON log line, or None for any other line."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    return str(record.get("level")), str(record.get("logger")), str(record.get("message"))
