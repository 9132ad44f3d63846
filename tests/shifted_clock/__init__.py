"""Moving the calendar of a whole test run (sitecustomize.py), and handing it to subprocesses."""

import os
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECONDS_A_DAY = 86400


def subprocess_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a Python subprocess a test starts (gunicorn, the bench): the same
    calendar as this process, and never libfaketime.

    Run as `faketime '+400 days' pytest`, libfaketime is preloaded into every child, and its fake
    monotonic clock makes Python 3.11's timed waits never return (gunicorn's worker loop hangs).
    Its shift (FAKETIME, "+seconds") is handed on as `make test-shifted-clock` hands its own:
    time-machine in every Python process, started by sitecustomize.py.
    """
    env = dict(os.environ if env is None else env)
    preload = env.get("LD_PRELOAD", "")
    if "libfaketime" not in preload:
        return env
    kept = [part for part in preload.replace(":", " ").split() if "libfaketime" not in part]
    env["LD_PRELOAD"] = " ".join(kept)
    shift = env.pop("FAKETIME", "")
    env.pop("FAKETIME_SHARED", None)
    if shift[:1] in ("+", "-") and shift[1:].isdigit() and "TEST_CLOCK_SHIFT_DAYS" not in env:
        env["TEST_CLOCK_SHIFT_DAYS"] = str(int(shift) / SECONDS_A_DAY)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env
