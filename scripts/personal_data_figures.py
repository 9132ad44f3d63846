#!/usr/bin/env python3
"""Recall and precision of personal-data detection on the simulator's labelled corpus.

Usage: ``python scripts/personal_data_figures.py [--misses]`` (``make privacy-figures``).
The corpus is ``calls/simulator/personal_data_corpus.py``, the detector
``calls/lib/personal_data.py``.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calls.simulator.personal_data_corpus import CORPUS, measure, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list what was missed or wrong")
    args = parser.parse_args()
    tallies, misses = measure()
    print(f"{len(CORPUS)} utterances\n")
    print(table(tallies))
    if args.misses:
        print()
        for miss in misses:
            what = "missed" if miss.missed else "false "
            print(f"{what} {miss.kind}: {miss.said!r} in {' / '.join(miss.utterance.turns)!r}")


if __name__ == "__main__":
    main()
