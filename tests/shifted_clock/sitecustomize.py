"""Moves the calendar of every Python process of a test run: `make test-shifted-clock`.

Put this folder on PYTHONPATH and set TEST_CLOCK_SHIFT_DAYS: Python imports `sitecustomize` at
start-up, so pytest, and every Python subprocess a test starts (the bench's gunicorn and its
workers), see the wall clock that many days away from the real one, ticking as usual. A test
that compares a fixed date with the real clock fails here long before that date comes.

Why not `faketime '+400 days'`: Debian 12's libfaketime (0.9.10) fakes CLOCK_MONOTONIC too, and
Python 3.11's timed lock waits (`Event.wait(0.2)`, `threading.Timer`) then never return; with
FAKETIME_DONT_FAKE_MONOTONIC=1, `time.sleep` fails with EINVAL instead. time-machine moves only
the wall-clock readings (time.time, datetime.now, gmtime, localtime, ...), in every thread.
"""

import os

_days = os.environ.get("TEST_CLOCK_SHIFT_DAYS")
if _days:
    import datetime as _dt

    import time_machine

    _moment = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=float(_days))
    time_machine.travel(_moment, tick=True).start()
