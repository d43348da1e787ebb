"""Durations in the seeds' format: whole hours and/or minutes, ``0m`` to ``720h``.

``30m``, ``1h``, ``24h``, ``1h30m`` are valid. Seconds, days, fractions, signs, spaces and
anything above 720 hours are not. :func:`format_duration` gives the canonical spelling, and
``parse_duration(format_duration(d)) == d`` for every valid ``d``.
"""

from __future__ import annotations

import datetime as dt
import re

from .messages import message

MAX_DURATION = dt.timedelta(hours=720)
_PATTERN = re.compile(r"^(?:(?P<h>\d{1,3})h)?(?:(?P<m>\d{1,5})m)?$")


class DurationError(ValueError):
    """A duration string that is not in the seeds' format; the message says why."""


def parse_duration(value: str) -> dt.timedelta:
    if not isinstance(value, str):
        raise DurationError(message("duration_not_text"))
    match = _PATTERN.match(value)
    if not value or match is None:
        raise DurationError(message("duration_format", value=value[:100]))
    hours = int(match["h"] or 0)
    minutes = int(match["m"] or 0)
    if match["h"] is not None and match["m"] is not None and minutes >= 60:
        raise DurationError(message("duration_minutes", value=value))
    duration = dt.timedelta(hours=hours, minutes=minutes)
    if duration > MAX_DURATION:
        raise DurationError(message("duration_too_long", value=value))
    return duration


def format_duration(duration: dt.timedelta) -> str:
    if duration < dt.timedelta(0) or duration > MAX_DURATION or duration % dt.timedelta(minutes=1):
        raise DurationError(message("duration_not_whole_minutes"))
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
