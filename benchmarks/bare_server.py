"""The least a Python server can do per request: the benchmark's ceiling, not a server to use.

    python benchmarks/bare_server.py SCRIPT PORT

On uvloop, like ours: one ``data_received`` per request that finds the end of the head, hands
the body to the script's ``run()`` as a string, writes the answer as JSON with a fixed head,
and nothing else — no HTTP parsing beyond that (every request is taken to be a complete POST
in one read, as wrk sends them), no headers, ids, limits, logging or time limit. Whatever the
scoring server's own work is, it cannot beat this; ``bench_server.py`` sets both against
``run()`` in a loop, so the part of the gap no server can close (the socket, the kernel, the
event loop, the client sharing the cores) is shown apart from the part that is the server's.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import socket
import sys
from typing import Any

import uvloop


def load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("bare_score", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.init()
    return module.run


class Bare(asyncio.Protocol):
    run: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        body = data[data.index(b"\r\n\r\n") + 4:].decode()
        answer = json.dumps(self.run(body)).encode()
        self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(answer), answer))


async def serve(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    server = await asyncio.get_running_loop().create_server(Bare, sock=sock)
    print(f"bare server on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


def main() -> None:
    Bare.run = staticmethod(load(sys.argv[1]))
    gc.collect()
    gc.freeze()
    uvloop.run(serve(int(sys.argv[2])))


if __name__ == "__main__":
    main()
