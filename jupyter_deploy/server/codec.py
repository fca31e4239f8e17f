"""JSON in and out of the server: orjson where it gives the same values, the standard library
where it does not.

Every answer is JSON, and with the standard encoder a small one costs about as much as parsing
the request; a thousand numbers cost more than a typical ``run()``. orjson (one compiled module
of about 0.3 MB) writes the same values 5 to 12 times faster. It differs from ``json`` in a few
places, each sent back to the standard library here, so the values a client decodes are the
ones it decoded before:

* NaN and infinities: orjson writes ``null``; the peer (``json.dumps``) writes ``NaN`` and
  ``Infinity``, which Python clients read back as floats. An answer holding ``null`` is encoded
  again by ``json`` (which writes ``null`` only for None).
* Integers beyond 64 bits, non-string keys, strings with lone surrogates, very deep nesting:
  orjson refuses them, ``json`` writes them.
* numpy, pandas, dates: both go through :func:`default` (``tolist()``, records, ``isoformat()``),
  so a float32 array is written as the same doubles, a ``pandas.Timestamp`` with its
  nanoseconds.

What differs is only the spelling: no spaces after ``,`` and ``:``, text as UTF-8 instead of
``\\u`` escapes, ``1e-05`` as ``1e-5`` — the same JSON values. Reading, orjson refuses what the
standard library accepts beyond strict JSON (NaN, UTF-16 bodies, lone surrogates): those go to
``json.loads``, whose error messages are the ones clients see. orjson also reads an integer
beyond 64 bits as a float, silently: a text with 19 digits in a row is read by ``json``.
Without orjson installed (``jupyter-deploy serve`` on a host that lacks it) the standard library
does everything, writing the same compact spelling.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - the image always has it; a host may not
    orjson = None  # type: ignore[assignment]


def default(value: Any) -> Any:
    """What JSON cannot hold as it is: DataFrames as records, numpy values, dates."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return value.to_dict(orient="records")
    for attr in ("tolist", "item", "isoformat"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every fallback: json.dumps(value, default=…) builds a new one per call.
_ENCODER = json.JSONEncoder(default=default, separators=(",", ":"))
_NULL = b"null"
#: Where orjson could read an integer as a float (beyond 64 bits: 19 digits or more).
_LONG_BYTES = re.compile(rb"\d{19}")
_LONG_TEXT = re.compile(r"\d{19}")

if orjson is not None:
    # Dates and dataclasses through default() as with json: the same text, or the same refusal.
    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    _dumps = orjson.dumps
    _loads = orjson.loads

    def dumps(value: Any) -> bytes:
        """``value`` as JSON bytes (numpy and pandas values through :func:`default`).

        Raises:
            TypeError, ValueError: ``value`` holds something JSON cannot carry.
        """
        try:
            body = _dumps(value, default, _OPTIONS)
        except TypeError:  # (orjson.JSONEncodeError is one)
            return _ENCODER.encode(value).encode()
        if _NULL in body:  # None, or a NaN/infinity orjson wrote as null: json tells them apart
            return _ENCODER.encode(value).encode()
        return body

    def loads(data: bytes | str) -> Any:
        """The JSON value in ``data``.

        Raises:
            ValueError: not JSON (the standard library's message).
        """
        long = _LONG_TEXT.search(data) if isinstance(data, str) else _LONG_BYTES.search(data)
        if long:
            return json.loads(data)
        try:
            return _loads(data)
        except ValueError:  # (orjson.JSONDecodeError is one)
            return json.loads(data)

    #: Strict JSON read by orjson alone, without :func:`loads`'s look for long integers (which
    #: costs three times the parse): for a caller that takes only numbers it can tell apart,
    #: since an integer beyond 64 bits comes back as a float. ValueError on anything else.
    loads_numbers = _loads
else:  # pragma: no cover
    def dumps(value: Any) -> bytes:
        """``value`` as JSON bytes (numpy and pandas values through :func:`default`)."""
        return _ENCODER.encode(value).encode()

    loads = loads_numbers = json.loads
