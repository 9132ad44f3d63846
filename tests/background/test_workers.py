"""Background work in real processes, as deployed: the dashboard under gunicorn, Celery workers
and RedBeat schedulers as subprocesses on a Redis broker, a database of their own (an SQLite
file, or a fresh PostgreSQL database), and Truedy's simulator served over HTTP from this process
(so that its request log says which calls the workers read). What the workers did is read
straight from the database, with the driver.

- A worker killed mid-task (SIGKILL to its process group) loses no webhook event: a fresh
  worker runs the unacknowledged one again once the broker's visibility timeout has passed.
- Two workers share the queue and never run one event's follow-up twice.
- Of two schedulers, one holds RedBeat's lock and sends; the other takes over when it dies.

Redis database 14 is this module's own: flushed before and after each test.
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

from bench.harness import REDIS_HOST, REDIS_PORT, Gunicorn, dashboard_env, free_port
from calls.simulator import API_PREFIX, Simulator, SimulatorServer, serve
from calls.simulator.webhooks import WebhookSender, call_event
from tests.shifted_clock import subprocess_env

pytestmark = [pytest.mark.workers, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/14"
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_URL = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}"
WEBHOOK_SECRET = "whsec_test_workers"

# Every Truedy response takes this long, so a task lasts a moment and a worker can be caught
# in the middle of one.
LATENCY = 0.3
# While a worker is to be killed mid-task, Truedy answers this slowly: its request is certainly
# still waiting when the kill lands (shorter than TRUEDY_READ_TIMEOUT, so it is never retried).
HOLD_LATENCY = 5.0
VISIBILITY_TIMEOUT = 5
LOCK_TIMEOUT = 5
DEADLINE = 60.0

RECEIVED = re.compile(r"Task calls\.background\.tasks\.process_webhook_event\[([\w-]+)\] received")
SUCCEEDED = re.compile(
    r"Task calls\.background\.tasks\.process_webhook_event\[([\w-]+)\] succeeded"
)
BEAT_STARTED = "beat: Starting..."
LOCK_ACQUIRED = "beat: Acquired lock"
SENDING = "Scheduler: Sending due task "
SENDING_HEARTBEAT = "Scheduler: Sending due task heartbeat ("
HEARTBEAT_RECEIVED = re.compile(r"Task calls\.background\.tasks\.heartbeat\[[\w-]+\] received")

UNPROCESSED = "SELECT count(*) FROM calls_webhookevent WHERE processed_at IS NULL"
PROCESSED = "SELECT count(*) FROM calls_webhookevent WHERE processed_at IS NOT NULL"


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


# --- the database, read with its driver -------------------------------------------------------


class Database:
    url: str

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def value(self, query: str) -> Any:
        return self.rows(query)[0][0]


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        # A connection per query: never a read transaction held open against the workers.
        connection = sqlite3.connect(self.path, timeout=20)
        try:
            return connection.execute(query).fetchall()
        finally:
            connection.close()


class PostgresDatabase(Database):
    def __init__(self, name: str) -> None:
        self.url = f"{POSTGRES_URL}/{name}"

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(query.encode()).fetchall()


# --- processes --------------------------------------------------------------------------------


class Service:
    """One command in a process group of its own, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log_path = log
        self.killed = False
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,  # tests/shifted_clock is on a relative PYTHONPATH in that run
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, text: str) -> int:
        return self.log().count(text)

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and its pool children, mid-task."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()


def received(worker: Service) -> list[str]:
    """The ids of the webhook follow-ups the worker took from the queue, in order."""
    return RECEIVED.findall(worker.log())


def succeeded(worker: Service) -> list[str]:
    return SUCCEEDED.findall(worker.log())


class Deployment:
    """The dashboard, workers and schedulers of one test, sharing one environment."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.services: list[Service] = []
        self.dashboard: Gunicorn | None = None

    def manage(self, *command: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start_dashboard(self) -> Gunicorn:
        self.dashboard = Gunicorn(self.env, free_port(), 1, 4, self.tmp)
        self.dashboard.wait_ready()
        return self.dashboard

    def start_worker(self, name: str, *, concurrency: int) -> Service:
        command = [CELERY, "-A", "truedy_dashboard", "worker", "--pool", "prefork"]
        command += ["--concurrency", str(concurrency), "--loglevel", "INFO", "-n", f"{name}@%h"]
        return self._start(name, command)

    def start_beat(self, name: str) -> Service:
        schedule = str(self.tmp / f"{name}-schedule")  # RedBeat keeps none; never one in ROOT
        command = [CELERY, "-A", "truedy_dashboard", "beat", "--loglevel", "INFO", "-s", schedule]
        return self._start(name, command)

    def _start(self, name: str, command: list[str]) -> Service:
        service = Service(name, command, self.env, self.tmp / f"{name}.log")
        self.services.append(service)
        return service

    def wait_ready(self, worker: Service) -> None:
        ready = re.compile(rf"{re.escape(worker.name)}@\S+ ready\.")
        self.wait_until(lambda: bool(ready.search(worker.log())), f"{worker.name} to be ready")

    def wait_until(self, condition: Callable[[], bool], what: str) -> float:
        """Poll `condition` until it holds; the seconds it took. Fails, with every process's
        log, after DEADLINE seconds or as soon as a process this test still needs has died."""
        started = time.monotonic()
        while not condition():
            dead = [s.name for s in self.services if not s.killed and s.process.poll() is not None]
            if dead or time.monotonic() - started > DEADLINE:
                reason = f"{', '.join(dead)} exited" if dead else f"not within {DEADLINE:.0f} s"
                pytest.fail(f"waiting for {what}: {reason}\n{self.logs()}")
            time.sleep(0.05)
        return time.monotonic() - started

    def logs(self) -> str:
        tails = [
            f"--- {s.name} ---\n" + "\n".join(s.log().splitlines()[-25:]) for s in self.services
        ]
        if self.dashboard is not None:
            tails.append("--- dashboard ---\n" + self.dashboard.log_tail(25))
        return "\n".join(tails)

    def stop(self) -> None:
        for service in self.services:
            if not service.killed:
                service.kill()
        if self.dashboard is not None:
            self.dashboard.stop()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.dashboard.process.pid, signal.SIGKILL)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def truedy() -> Iterator[SimulatorServer]:
    """The simulator, served over HTTP from this process."""
    server = serve(Simulator(seed=42, call_count=400), host="127.0.0.1", port=0)
    yield server
    server.shutdown()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    if not reachable(REDIS_HOST, REDIS_PORT):
        pytest.skip(f"Redis at {REDIS_HOST}:{REDIS_PORT} not reachable: start it to run these")
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database: an SQLite file, or (parametrized "postgres") a fresh PostgreSQL
    database, dropped afterwards."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield SqliteDatabase(tmp_path / "db.sqlite3")
        return
    if not reachable(POSTGRES_HOST, POSTGRES_PORT):
        pytest.skip(
            f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} not reachable: start it to run this"
        )
    name = f"test_workers_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PostgresDatabase(name)
    finally:
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def deployment(
    broker: redis.Redis,
    database: Database,
    truedy: SimulatorServer,
    collected_static: Path,
    tmp_path: Path,
) -> Iterator[Deployment]:
    """A migrated database and the environment every process of the deployment shares; the
    processes the test starts are killed (their whole group) afterwards."""
    truedy.simulator.reset_requests()
    truedy.simulator.switches.latency_seconds = LATENCY
    env = dashboard_env(
        base_url=truedy.base_url,
        api_key=truedy.simulator.api_key,
        database_url=database.url,
        cache_url="locmemcache://",
        static_root=collected_static,
    )
    env.update(
        # pytest's environment runs tasks eagerly on an in-memory broker: not these processes.
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        TRUEDY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_FORMAT="text",
        LOG_LEVEL="INFO",
    )
    deployment = Deployment(subprocess_env(env), tmp_path)
    deployment.manage("migrate", "--noinput", "-v", "0")
    try:
        yield deployment
    finally:
        deployment.stop()


# --- helpers ----------------------------------------------------------------------------------


def ended_call_ids(truedy: SimulatorServer, count: int) -> list[str]:
    """Ids of ended calls, as Truedy lists them over HTTP."""
    response = httpx.get(
        truedy.base_url + "/calls",
        params={"status": "ended", "limit": count},
        headers={"Authorization": f"Bearer {truedy.simulator.api_key}"},
        timeout=10,
    )
    response.raise_for_status()
    ids = [call["id"] for call in response.json()["data"]]
    assert len(set(ids)) == count
    return ids


def deliver_call_ended(truedy: SimulatorServer, dashboard: Gunicorn, call_ids: list[str]) -> None:
    """A signed call.ended webhook for each call, as Truedy sends it; each answered 204."""
    sender = WebhookSender(WEBHOOK_SECRET, dashboard.base + "/webhooks/truedy")
    try:
        answers = [
            sender.send(call_event(truedy.simulator, call_id, "call.ended")).status_code
            for call_id in call_ids
        ]
    finally:
        sender.close()
    assert answers == [204] * len(call_ids)


def call_reads(simulator: Simulator) -> Counter[str]:
    """How many times each call was read (GET /calls/{id}) from Truedy."""
    prefix = f"{API_PREFIX}/calls/"
    return Counter(
        request.path.removeprefix(prefix)
        for request in simulator.requests
        if request.method == "GET"
        and request.path.startswith(prefix)
        and "/" not in request.path.removeprefix(prefix)
    )


def assert_every_call_archived_by_its_webhook(database: Database, call_ids: list[str]) -> None:
    events = database.rows("SELECT call_id, process_error FROM calls_webhookevent")
    assert sorted(call_id for call_id, _ in events) == sorted(call_ids)
    assert [(call_id, error) for call_id, error in events if error] == []
    archived = dict(database.rows("SELECT id, source FROM calls_archivedcall"))
    assert {call_id: archived.get(call_id) for call_id in call_ids} == dict.fromkeys(
        call_ids, "webhook"
    )


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_worker_killed_mid_task_loses_no_webhook_event(
    deployment: Deployment, database: Database, broker: redis.Redis, truedy: SimulatorServer
) -> None:
    simulator = truedy.simulator
    deployment.env["CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT)
    first = deployment.start_worker("w1", concurrency=1)
    dashboard = deployment.start_dashboard()
    deployment.wait_ready(first)
    call_ids = ended_call_ids(truedy, 20)
    deliver_call_ended(truedy, dashboard, call_ids)
    deployment.wait_until(lambda: database.value(PROCESSED) >= 3, "three events processed")

    # Truedy slows down; the next call the worker reads keeps it waiting, mid-task, until killed.
    simulator.switches.latency_seconds = HOLD_LATENCY
    before = len(simulator.requests)
    deployment.wait_until(
        lambda: any(
            request.path.startswith(f"{API_PREFIX}/calls/")
            for request in simulator.requests[before:]
        ),
        "the worker to read a call from Truedy",
    )
    first.kill()
    simulator.switches.latency_seconds = LATENCY

    assert database.value(UNPROCESSED) > 0
    interrupted = set(received(first)) - set(succeeded(first))
    assert len(interrupted) == 1, f"tasks the kill interrupted: {interrupted}"
    unacknowledged = broker.zrange("unacked_index", 0, -1, withscores=True)
    assert len(unacknowledged) == 1, "the interrupted task's message is not waiting in Redis"

    # A worker puts back, as it starts, the unacknowledged messages older than the visibility
    # timeout (kombu sweeps again only every 100 s or so): start the fresh one after that.
    delivered_at = unacknowledged[0][1]
    deployment.wait_until(
        lambda: time.time() > delivered_at + VISIBILITY_TIMEOUT + 0.5,
        "the interrupted task's visibility timeout to pass",
    )
    second = deployment.start_worker("w2", concurrency=2)
    deployment.wait_until(lambda: database.value(UNPROCESSED) == 0, "every event processed")

    assert_every_call_archived_by_its_webhook(database, call_ids)
    assert interrupted <= set(received(second)), "the interrupted task was not run again"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_workers_share_the_queue_and_never_run_an_event_twice(
    deployment: Deployment, database: Database, truedy: SimulatorServer
) -> None:
    workers = [deployment.start_worker(name, concurrency=2) for name in ("w1", "w2")]
    dashboard = deployment.start_dashboard()
    for worker in workers:
        deployment.wait_ready(worker)
    call_ids = ended_call_ids(truedy, 40)
    deliver_call_ended(truedy, dashboard, call_ids)
    deployment.wait_until(lambda: database.value(UNPROCESSED) == 0, "every event processed")
    deployment.wait_until(
        lambda: sum(len(succeeded(worker)) for worker in workers) >= len(call_ids),
        "every task to finish",
    )

    taken = [received(worker) for worker in workers]
    assert all(taken), f"a worker took no task: {[len(ids) for ids in taken]}"
    runs = Counter(task_id for ids in taken for task_id in ids)
    assert len(runs) == len(call_ids)
    assert [task_id for task_id, times in runs.items() if times > 1] == []
    assert call_reads(truedy.simulator) == Counter(call_ids)  # each call read from Truedy once
    assert_every_call_archived_by_its_webhook(database, call_ids)


def test_one_scheduler_sends_and_the_other_takes_over_when_it_dies(
    deployment: Deployment, database: Database
) -> None:
    deployment.env.update(
        CELERY_REDBEAT_KEY_PREFIX=f"test-workers-{secrets.token_hex(4)}",
        CELERY_REDBEAT_LOCK_TIMEOUT=str(LOCK_TIMEOUT),
        ARCHIVE_SYNC_INTERVAL="1",
        ARCHIVE_SYNC_REQUESTS_PER_RUN="2",
        WORKER_HEARTBEAT_INTERVAL="1",
    )
    worker = deployment.start_worker("w1", concurrency=2)
    beats = [deployment.start_beat("beat1"), deployment.start_beat("beat2")]
    deployment.wait_until(
        lambda: (
            all(BEAT_STARTED in beat.log() for beat in beats)
            and any(LOCK_ACQUIRED in beat.log() for beat in beats)
        ),
        "both schedulers to start and one to take the lock",
    )
    holder, standby = sorted(beats, key=lambda beat: LOCK_ACQUIRED not in beat.log())
    deployment.wait_until(lambda: holder.count(SENDING_HEARTBEAT) >= 8, "eight heartbeats sent")
    deployment.wait_until(
        lambda: database.value("SELECT count(*) FROM calls_workerheartbeat") == 1,
        "the worker to run a heartbeat",
    )

    assert LOCK_ACQUIRED not in standby.log()
    assert standby.count(SENDING) == 0
    # The worker ran one scheduler's heartbeats, not two schedulers' worth.
    # (The worker's log is read first: the scheduler's count can only have grown since.)
    assert 0 < len(HEARTBEAT_RECEIVED.findall(worker.log())) <= holder.count(SENDING_HEARTBEAT)

    holder.kill()
    took_over = deployment.wait_until(
        lambda: SENDING_HEARTBEAT in standby.log(), "the other scheduler to take over"
    )
    # The lock expires LOCK_TIMEOUT s after the dead one last extended it; the standby tries
    # again every CELERY_BEAT_MAX_LOOP_INTERVAL s.
    assert took_over < LOCK_TIMEOUT + settings.CELERY_BEAT_MAX_LOOP_INTERVAL + 5
    assert LOCK_ACQUIRED in standby.log()
