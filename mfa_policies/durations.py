"""Durations in the seeds' format: whole hours and/or minutes, ``0m`` to ``720h``.

``30m``, ``1h``, ``24h``, ``1h30m`` are valid. Seconds, days, fractions, signs, spaces and
anything above 720 hours are not. :func:`format_duration` gives the canonical spelling, and
``parse_duration(format_duration(d)) == d`` for every valid ``d``.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_DURATION = dt.timedelta(hours=720)
_PATTERN = re.compile(r"^(?:(?P<h>\d{1,3})h)?(?:(?P<m>\d{1,5})m)?$")


class DurationError(ValueError):
    """A duration string that is not in the seeds' format; the message says why."""


def parse_duration(value: str) -> dt.timedelta:
    if not isinstance(value, str):
        raise DurationError("must be a string such as 30m, 1h, 24h or 1h30m")
    match = _PATTERN.match(value)
    if not value or match is None:
        raise DurationError(f"“{value}” is not a duration; use whole hours and minutes such as 30m, 1h, 24h or 1h30m")
    hours = int(match["h"] or 0)
    minutes = int(match["m"] or 0)
    if match["h"] is not None and match["m"] is not None and minutes >= 60:
        raise DurationError(f"“{value}”: minutes after hours must be below 60")
    duration = dt.timedelta(hours=hours, minutes=minutes)
    if duration > MAX_DURATION:
        raise DurationError(f"“{value}” is longer than the maximum of 720h")
    return duration


def format_duration(duration: dt.timedelta) -> str:
    if duration < dt.timedelta(0) or duration > MAX_DURATION or duration % dt.timedelta(minutes=1):
        raise DurationError("durations are whole minutes from 0m to 720h")
    total_minutes = int(duration.total_seconds()) // 60
    hours, minutes = divmod(total_minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    if hours:
        return f"{hours}h"
    return f"{minutes}m"


def is_valid_duration(value: str) -> bool:
    try:
        parse_duration(value)
    except DurationError:
        return False
    return True
