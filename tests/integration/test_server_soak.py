"""10,000 requests at concurrency 32: none fails, and the server's memory stays flat.

Bounded by request count, not time; the server runs on the host (``jupyter-deploy serve``) so
its resident memory can be read from /proc. Nothing here asserts on speed.
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
#: Allowed resident-memory growth between the 2,000th and the 10,000th request.
FLAT = 4 * 1024


def test_ten_thousand_requests_at_concurrency_32() -> None:
    # Given our server on the seed's Ridge script
    with serving("ours", COMPAT / "scripts" / "ridge.py") as server:
        # When 10,000 requests arrive, 32 at a time
        result = soak(server, requests_total=10_000, concurrency=32, body=json.dumps(SAMPLE))
    # Then none failed, and memory did not grow after warm-up
    assert result.failures == 0
    assert len(result.rss_kb) == 10
    assert result.growth_kb <= FLAT, f"RSS grew by {result.growth_kb} kB: {result.rss_kb}"
