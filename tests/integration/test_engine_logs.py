"""Following a container's log while waiting for it: every line once, in order, cheaply."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from docker.models.containers import Container

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import containers
from jupyter_deploy.engine.client import docker_client


@pytest.fixture
def a_chatty_container(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Container]:
    """Prints 6 lines 0.2 s apart (two of them in the same second, surely), then sleeps."""
    script = "for i in 1 2 3 4 5 6; do echo line$i; sleep 0.2; done; sleep 60"
    container = docker_client().containers.run(
        get_config().default_base_image, ["sh", "-c", script], name=a_service_name,
        labels=test_labels, detach=True)
    yield container
    container.remove(force=True)


def test_new_lines_are_streamed_once_each_in_order(a_chatty_container: Container) -> None:
    # When the log is followed from its start while the container writes
    seen: list[str] = []
    cursor, deadline = "", time.monotonic() + 10
    while len(seen) < 6 and time.monotonic() < deadline:
        cursor = containers._stream_new_lines(a_chatty_container, cursor, seen.append)
        time.sleep(0.05)
    # Then every line arrived exactly once, in order
    assert seen == [f"line{i}" for i in range(1, 7)]
    # And following on from the cursor gives nothing more, nor does a fresh cursor
    assert containers._stream_new_lines(a_chatty_container, cursor, seen.append) == cursor
    end = containers.log_cursor(a_chatty_container)
    containers._stream_new_lines(a_chatty_container, end, seen.append)
    assert len(seen) == 6
