"""Stopping without failing a request: serve on for a while after SIGTERM, health route down.

Behind a load balancer (the Swarm target's HAProxy, a Kubernetes Service) a replica that stops
at once races the balancer: the balancer may send a request on a kept-alive connection in the
instant the replica closes it, and the client sees its connection dropped. So on SIGTERM a
server with ``JD_DRAIN_SECONDS`` set first *drains*: it keeps accepting and answering, its
health route answers 503 (the balancer's check takes it out of rotation), and every answer
closes its connection (nothing stays idle to be raced). When the time is up uvicorn's own
graceful shutdown runs: in-flight requests finish, then the process ends as it would have.
A second SIGTERM, or SIGINT, ends the drain at once.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("azmlinfsrv")


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain before its graceful shutdown (see the module)."""

    def __init__(self, config: uvicorn.Config, app: Any, seconds: int) -> None:
        super().__init__(config)
        self.app = app
        self.seconds = seconds
        self.drain_until = 0.0  # monotonic time the drain ends; 0 while not draining
        self.drain_noted = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.seconds and not self.drain_until \
                and not self.should_exit:
            # Only flags here: a signal handler must not take the logging lock.
            self.drain_until = time.monotonic() + self.seconds
            self.app.draining = True
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_until and not self.should_exit:
            if not self.drain_noted:
                self.drain_noted = True
                log.info("SIGTERM: serving on for %d s with the health route down, then "
                         "stopping", self.seconds)
            if time.monotonic() >= self.drain_until:
                super().handle_exit(signal.SIGTERM, None)  # uvicorn's shutdown, as without drain
        return await super().on_tick(counter)
