"""10,000 requests at concurrency 32: none fails, and the server does not leak memory per request.

Bounded by request count and by time; the server runs on the host (``jupyter-deploy serve``) on
127.0.0.1 so its resident memory can be read from /proc. Nothing here asserts on speed.

Memory: after 2,000 warm-up requests, the remaining 8,000 split into two halves of 4,000. A
leak grows RSS in both halves; the allocator's one-off steps land in one. So the smaller half's
growth, per request, must stay under ``LEAK_BYTES`` — 64 kB over 4,000 requests, far above the
page-sized jitter of a flat server, and far below what keeping even one small object per request
would cost (a list slot and a small int or string: 36 bytes and up).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))

from servers import serving  # noqa: E402
from soak import soak  # noqa: E402

SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
#: The most RSS a request may leave behind once the server is warm, in bytes.
LEAK_BYTES = 16


def test_ten_thousand_requests_at_concurrency_32() -> None:
    # Given our server on the seed's Ridge script
    with serving("ours", COMPAT / "scripts" / "ridge.py") as server:
        # When 10,000 requests arrive, 32 at a time, within five minutes
        result = soak(server, requests_total=10_000, concurrency=32, body=json.dumps(SAMPLE),
                      sample_every=1000, warmup=2000, time_limit=300)
    # Then none failed
    assert result.failures == 0
    assert len(result.rss_kb) == 10
    # And after warm-up, neither half of the soak kept memory per request
    first, second = result.halves_kb
    assert result.steady_growth_bytes_per_request <= LEAK_BYTES, (
        f"RSS grew by {first} kB and then by {second} kB over two halves of "
        f"{result.half_requests} requests: "
        f"{result.steady_growth_bytes_per_request:.0f} bytes kept per request "
        f"(RSS in kB every 1,000 requests: {result.rss_kb})")
