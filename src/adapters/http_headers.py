"""Reading HTTP headers every provider adapter shares."""

from __future__ import annotations

import email.utils
import time


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date measured from now (RFC 9110 10.2.3)."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
