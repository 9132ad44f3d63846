"""The dashboard's own settings, with the benchmark's URLconf: the project's URLs plus `floor/`.

Only benchmark processes use this module; production URLs never contain the floor view.
"""

from truedy_dashboard.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
