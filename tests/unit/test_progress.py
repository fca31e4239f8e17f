"""Per-layer pull/push events folded into one bar, and drawn as text."""

from __future__ import annotations

import io
from typing import Any

from jupyter_deploy.engine.progress import ProgressAggregator, TextProgress, text_progress

PULL = [
    {"status": "Pulling from models/iris", "id": "1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
    {"status": "Already exists", "progressDetail": {}, "id": "ccc"},
    {"status": "Downloading", "progressDetail": {"current": 50, "total": 100}, "id": "aaa"},
    {"status": "Downloading", "progressDetail": {"current": 300, "total": 300}, "id": "bbb"},
    {"status": "Download complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Downloading", "progressDetail": {"current": 100, "total": 100}, "id": "aaa"},
    {"status": "Extracting", "progressDetail": {"current": 100, "total": 100}, "id": "aaa"},
    {"status": "Pull complete", "progressDetail": {}, "id": "aaa"},
    {"status": "Extracting", "progressDetail": {"current": 300, "total": 300}, "id": "bbb"},
    {"status": "Pull complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Digest: sha256:abc"},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/models/iris:1"},
]
PUSH = [
    {"status": "The push refers to repository [127.0.0.1:5000/models/iris]"},
    {"status": "Preparing", "progressDetail": {}, "id": "aaa"},
    {"status": "Preparing", "progressDetail": {}, "id": "bbb"},
    {"status": "Layer already exists", "progressDetail": {}, "id": "bbb"},
    {"status": "Pushing", "progressDetail": {"current": 512, "total": 1024}, "id": "aaa"},
    {"status": "Pushed", "progressDetail": {}, "id": "aaa"},
    {"status": "1: digest: sha256:def size: 739"},
    {"progressDetail": {}, "aux": {"Tag": "1", "Digest": "sha256:def", "Size": 739}},
]


def feed(aggregator: ProgressAggregator, events: list[dict[str, Any]]) -> list[float]:
    seen = []
    for event in events:
        aggregator(event)
        seen.append(aggregator.fraction)
    return seen


def test_a_pull_becomes_one_rising_bar_and_a_docker_like_summary() -> None:
    # Given the events of a pull of three layers (one already present)
    progress = ProgressAggregator()
    # When they are fed in order
    fractions = feed(progress, PULL)
    # Then the bar never goes back, ends full, and the summary is the engine's status line
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert (progress.layers_done, len(progress.layers)) == (3, 3)
    assert progress.summary == "Status: Downloaded newer image for 127.0.0.1:5000/models/iris:1"
    assert "3/3 layers" in progress.describe()


def test_a_push_counts_existing_layers_as_done_and_ends_with_the_digest() -> None:
    progress = ProgressAggregator()
    fractions = feed(progress, PUSH)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert progress.summary == "1: digest: sha256:def size: 739"


def test_halfway_through_a_layer_is_halfway_through_its_weight() -> None:
    # Given two equal layers, one pushed, one half pushed
    progress = ProgressAggregator()
    progress({"status": "Pushing", "progressDetail": {"current": 50, "total": 100}, "id": "a"})
    progress({"status": "Pushing", "progressDetail": {"current": 100, "total": 100}, "id": "b"})
    progress({"status": "Pushed", "progressDetail": {}, "id": "b"})
    # Then the bar is three quarters full
    assert progress.fraction == 0.75


def test_text_progress_prints_a_few_lines_off_a_terminal() -> None:
    # Given a non-terminal stream
    out = io.StringIO()
    progress = text_progress(out)
    # When a whole pull is drawn and finished
    feed(progress, PULL)
    progress.finish()
    lines = out.getvalue().splitlines()
    # Then a handful of lines were written, the last one full
    assert 1 <= len(lines) <= 5
    assert "100%" in lines[-1] and lines[-1].startswith("[" + "=" * 30 + "]")


def test_text_progress_redraws_in_place_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    progress = ProgressAggregator(on_change=TextProgress(out, interval=0.0))
    feed(progress, PUSH)
    progress.finish()
    text = out.getvalue()
    assert text.count("\r") >= len(PUSH) and text.endswith("\n")


def test_the_notebook_bar_shows_the_same_numbers_and_the_summary() -> None:
    from jupyter_deploy.widgets.progress import ProgressBar

    # Given a widget bar fed a whole pull
    bar = ProgressBar("Pulling models/iris:1", interval=0.0)
    progress = bar.aggregator()
    feed(progress, PULL)
    progress.finish()
    # Then it is full, green, and shows the engine's summary line
    assert bar.bar.value == 1.0 and bar.bar.bar_style == "success"
    assert "Downloaded newer image" in bar.label.value
