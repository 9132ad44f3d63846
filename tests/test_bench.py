"""`make bench` (bench/bench.py): the whole harness runs with tiny sizes, and its parts that judge
or reshape figures do what they say, so the benchmark cannot rot unnoticed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from bench.bench import Row, TranscriptTrimmer, judge
from tests.shifted_clock import subprocess_env

ROOT = Path(__file__).resolve().parent.parent


def test_the_floor_view_is_not_a_production_url():
    with pytest.raises(Resolver404):
        resolve("/floor/")
    assert resolve("/floor/", urlconf="bench.urls").url_name == "bench_floor"


def _call_app(turns: int):
    document = {
        "data": {
            "id": "c1",
            "transcript": [{"speaker": "agent", "text": str(n)} for n in range(turns)],
        },
        "meta": {},
    }
    body = json.dumps(document).encode()

    def app(environ, start_response):
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def _get(app, path: str) -> tuple[str, dict[str, str], bytes]:
    answered = []
    body = b"".join(
        app({"PATH_INFO": path}, lambda status, headers: answered.extend([status, headers]))
    )
    return answered[0], dict(answered[1]), body


def test_transcript_trimmer_cuts_one_calls_transcript_and_fixes_its_length():
    trimmer = TranscriptTrimmer(_call_app(10), "c1")
    trimmer.turns = 3
    status, headers, body = _get(trimmer, "/api/public/v1/calls/c1")
    assert status == "200 OK"
    assert [turn["text"] for turn in json.loads(body)["data"]["transcript"]] == ["0", "1", "2"]
    assert headers["Content-Length"] == str(len(body))


def test_transcript_trimmer_leaves_other_calls_and_the_untrimmed_state_alone():
    trimmer = TranscriptTrimmer(_call_app(10), "c1")
    trimmer.turns = 3
    _, _, other = _get(trimmer, "/api/public/v1/calls/c2")
    assert len(json.loads(other)["data"]["transcript"]) == 10
    trimmer.turns = None
    _, _, whole = _get(trimmer, "/api/public/v1/calls/c1")
    assert len(json.loads(whole)["data"]["transcript"]) == 10


def _timing(p50: float) -> dict:
    return {"n": 10, "p50_ms": p50, "p95_ms": p50 * 1.2, "min_ms": p50 * 0.9, "max_ms": p50 * 2}


def _results(*, list_p50: float, upstream: int, crowd: int, long_p50: float) -> dict:
    recording = {"proxy_ttfb": _timing(52.0), "direct_ttfb": _timing(50.0)}
    return {
        "hits": {
            "floor": _timing(2.0),
            "list_cached": _timing(list_p50),
            "call_cached": _timing(3.0),
            "list_render_only": _timing(2.0),
            "call_render_only": _timing(1.5),
        },
        "misses": {
            "list_miss": _timing(55.0),
            "call_miss": _timing(80.0),
            "upstream_round_trip_list": _timing(50.0),
            "upstream_round_trip_call": _timing(50.0),
        },
        "mix": {
            "page_views": 100,
            "distinct_pages": 30,
            "neighbour_list_pages": 0,
            "upstream_requests": upstream,
            "target": 31,
        },
        "stampede": {"concurrent_requests": 20, "upstream_requests": crowd, "statuses": [200]},
        "transcripts": [
            {"turns": 1000, "turns_shown": 1000, "html_bytes": 500_000, **_timing(30.0)},
            {"turns": 2000, "turns_shown": 2000, "html_bytes": 1_000_000, **_timing(long_p50)},
        ],
        "recording": {
            "sizes": [
                {
                    "megabytes": 5,
                    "traced_peak_mb": 0.5,
                    "rss_growth_mb": 0.1,
                    "mb_per_s": 90,
                    **recording,
                },
                {
                    "megabytes": 50,
                    "traced_peak_mb": 0.6,
                    "rss_growth_mb": 0.1,
                    "mb_per_s": 90,
                    **recording,
                },
            ]
        },
        "export": None,
        "throughput": {
            "floor": {"requests_per_s": 900.0, "failures": 0, "p50_ms": 8.0},
            "list_cached": {"requests_per_s": 700.0, "failures": 0},
            "call_cached": {"requests_per_s": 300.0, "failures": 0},
        },
    }


def _verdicts(rows: list[Row]) -> dict[str, str]:
    return {row.item: row.verdict for row in rows}


def test_judge_passes_figures_within_their_targets_and_misses_the_others():
    good = _verdicts(judge(_results(list_p50=2.9, upstream=31, crowd=1, long_p50=60.0)))
    assert good["2 cached list, 50 rows"] == "PASS"
    assert good["2 cached call page"] == "PASS"
    assert good["2 cached list, 50 rows, vs its own render"] == "PASS"  # 2.9 ms for 2.0
    assert good["2 cached call page, vs its own render"] == "MISS"  # 3.0 ms for 1.5
    assert good["3 cache-miss list, 50 rows"] == "PASS"
    assert good["3 cache-miss call page"] == "MISS"  # 80 ms for a 52 ms floor + round trip
    assert good["4 upstream requests per 100 page views"] == "PASS"
    assert good["4 20 concurrent cold requests, one call"] == "PASS"
    assert good["5 transcript page, 2,000 turns"] == "PASS"
    assert good["5 transcript linearity"] == "PASS"
    assert good["6 recording proxy, memory streaming 50 MB"] == "PASS"
    assert good["7 CSV export"] == "-"
    assert good["8 gunicorn gthread x2: cached list"] == "PASS"
    assert good["8 gunicorn gthread x2: cached call page"] == "MISS"

    bad = _verdicts(judge(_results(list_p50=3.1, upstream=32, crowd=2, long_p50=101.0)))
    assert bad["2 cached list, 50 rows"] == "MISS"
    assert bad["4 upstream requests per 100 page views"] == "MISS"
    assert bad["4 20 concurrent cold requests, one call"] == "MISS"
    assert bad["5 transcript page, 2,000 turns"] == "MISS"
    assert bad["5 transcript linearity"] == "MISS"  # 50 us/turn against 30 at 1,000 turns


@pytest.mark.slow
def test_the_whole_bench_runs_with_tiny_sizes(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/bench.py", "--quick", "--cache", "locmem", "--out", str(out)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    results = json.loads(out.read_text())
    items = [row["item"] for row in results["table"]]
    assert [item.split()[0] for item in items] == [
        "1", "2", "2", "2", "2", "3", "3", "4", "4", "5", "5", "5", "6", "6", "7", "7", "8", "8",
        "8"
    ]  # fmt: skip
    for item in items:
        assert item in done.stdout  # the table is printed too
    assert results["hits"]["floor"]["p50_ms"] > 0
    assert results["misses"]["upstream_requests_per_miss"] == [1]
    assert results["stampede"]["statuses"] == [200]
    assert [t["turns"] for t in results["transcripts"]] == [100, 200, 400]
    assert all(t["turns_shown"] >= t["turns"] for t in results["transcripts"])
    assert [s["bytes"] for s in results["recording"]["sizes"]] == [
        pytest.approx(1_000_000, abs=200_000),
        pytest.approx(2_000_000, abs=200_000),
    ]
    served = results["throughput"]
    assert all(
        served[page]["requests_per_s"] > 0 for page in ("floor", "list_cached", "call_cached")
    )
    assert results["config"]["cache"] == "local memory"
