"""How the server stops: at once when nothing is in flight, after a drain when asked to.

**Promptly.** uvicorn notices a signal at its next 0.1 s tick and, once it has asked the
connections to close, waits a fixed 0.1 s before it looks whether they have. A local service's
``update()`` swaps containers on the same port, so both waits were downtime of every update
(0.2 s, an eighth of it). :class:`PromptServer` wakes its loop from the signal and ends its wait
when the last connection has closed. What a request in flight is owed is unchanged: it finishes,
up to the graceful timeout, and its answer is delivered.

**Draining.** Behind a load balancer (the Swarm target's HAProxy, a Kubernetes Service) a
replica that stops at once races the balancer: the balancer may send a request on a kept-alive
connection in the instant the replica closes it, and the client sees its connection dropped. So
on SIGTERM a server with ``JD_DRAIN_SECONDS`` set first *drains*: it keeps accepting and
answering, its health route answers 503 (the balancer's check takes it out of rotation), and
every answer closes its connection (nothing stays idle to be raced). When the time is up the
graceful shutdown runs: in-flight requests finish, then the process ends as it would have.
A second SIGTERM, or SIGINT, ends the drain at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("azmlinfsrv")
uvicorn_log = logging.getLogger("uvicorn.error")
#: How often the shutdown looks whether the last connection has closed.
CLOSED_POLL_SECONDS = 0.005


class PromptServer(uvicorn.Server):
    """uvicorn's server, stopping as soon as nothing is in flight (see the module)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            # A signal handler runs between two bytecodes of the loop's thread, as another
            # thread would: call_soon_threadsafe is the loop's way in from there.
            self._loop.call_soon_threadsafe(self._wake.set)

    async def main_loop(self) -> None:
        """uvicorn's ticks (its date header, its request limit), woken early by a signal."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            self._wake.clear()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown, without its fixed 0.1 s wait."""
        uvicorn_log.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their answer
        try:
            await asyncio.wait_for(self._closed(), timeout=self.config.timeout_graceful_shutdown)
        except asyncio.TimeoutError:
            uvicorn_log.error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                              len(self.server_state.tasks))
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _closed(self) -> None:
        state = self.server_state
        while (state.connections or state.tasks) and not self.force_exit:
            await asyncio.sleep(CLOSED_POLL_SECONDS)


class DrainingServer(PromptServer):
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
