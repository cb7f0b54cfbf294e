"""Reading the JSON of an answer, as fast as the installed packages allow.

Decoding the body is the largest piece of CPU a request costs the client
(about 12 µs for a 1.5 KB product with the standard library, and most of a
1,000-record page). With the optional extra `cafe24-async[speed]` installed,
`loads` uses orjson, three to five times faster, and gives the same values:
whatever orjson refuses (a UTF-8 byte-order mark, UTF-16 text, `NaN`) is read
again by the standard library, which then accepts it or raises its usual
`ValueError`. orjson would read an integer past 64 bits as an inexact float, so
a body holding 19 digits in a row is read by the standard library from the
start. Without the extra, `loads` is `json.loads`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: Every digit as "0" and every other byte as " ": a run of 19 digits is then one
#: substring search away (two C passes, much cheaper than a regular expression).
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19


#: The standard library's reading of a body (raises `ValueError` when it is not JSON):
#: `json.loads` itself, with no frame of ours around it.
loads_standard: Callable[[bytes], Any] = json.loads


def _fast_loads() -> Callable[[bytes], Any] | None:
    """orjson's reader, falling back to the standard library on what it refuses."""
    try:
        import orjson
    except ImportError:  # the extra is not installed
        return None
    fast = orjson.loads

    def loads(body: bytes) -> Any:
        if _LONG_RUN in body.translate(_DIGITS):  # maybe an integer orjson would round
            return json.loads(body)
        try:
            return fast(body)
        except ValueError:  # orjson.JSONDecodeError is a ValueError: let json decide
            return json.loads(body)

    return loads


_FAST = _fast_loads()
#: The decoder in use: "orjson" with the `speed` extra, else "json".
DECODER = "json" if _FAST is None else "orjson"
#: `body` read as JSON; raises `ValueError` when it is not JSON.
loads: Callable[[bytes], Any] = _FAST or loads_standard
