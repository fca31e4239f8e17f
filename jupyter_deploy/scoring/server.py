"""The scoring server that runs inside every image (and on the host, for the inner loop).

It loads the user's ``score.py`` the standard way — ``init()`` once, then ``run(raw_body)`` per
request — and answers ``GET /`` (health) and ``POST /score``. It imports nothing from
jupyter_deploy but :mod:`protocol`, because only these two files are copied into images.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

try:
    from . import protocol
except ImportError:  # run as a plain script
    import protocol  # type: ignore[no-redef]

log = logging.getLogger("jd_scoring")


def load_entry_script(path: str) -> ModuleType:
    """Import ``score.py`` from ``path`` and check it has ``init`` and ``run``."""
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("score", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load entry script {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise RuntimeError(f"entry script {path} defines no run() function")
    return module


def to_json(value: Any) -> bytes:
    """Serialise ``run()``'s answer; numpy/pandas values through their own ``tolist``."""
    return json.dumps(value, default=_default).encode()


def _default(value: Any) -> Any:
    for attr in ("tolist", "to_dict", "item"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    module: ModuleType
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == protocol.HEALTH_PATH:
            self._send(200, protocol.HEALTHY_BODY.encode(), "text/plain")
        else:
            self._send(404, to_json(protocol.error_body(f"no route {self.path}")))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        if self.path != protocol.SCORE_PATH:
            self._send(404, to_json(protocol.error_body(f"no route {self.path}")))
            return
        try:
            answer = self.module.run(body)
        except Exception as e:
            log.error("run() raised:\n%s", traceback.format_exc())
            self._send(500, to_json(protocol.error_body(f"{type(e).__name__}: {e}")))
            return
        self._send(200, to_json(answer))

    def _send(self, status: int, payload: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def main() -> None:
    """Load the entry script named by the environment, call ``init()``, serve forever."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    entry = os.environ.get(protocol.ENV_ENTRY_SCRIPT, "score.py")
    root = os.environ.get(protocol.ENV_APP_ROOT, protocol.APP_ROOT)
    path = entry if os.path.isabs(entry) else os.path.join(root, entry)
    try:
        module = load_entry_script(path)
        if callable(getattr(module, "init", None)):
            module.init()
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(3)
    port = int(os.environ.get(protocol.ENV_PORT, protocol.DEFAULT_PORT))
    _Handler.module = module
    server = ThreadingHTTPServer(("0.0.0.0", port), _Handler)
    log.info("Scoring server listening on port %d", port)
    server.serve_forever()


if __name__ == "__main__":
    main()
