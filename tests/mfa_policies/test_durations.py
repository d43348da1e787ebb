import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_policies.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize("text, minutes", [("0m", 0), ("30m", 30), ("1h", 60), ("24h", 1440), ("1h30m", 90),
                                           ("720h", 43200), ("90m", 90), ("0h", 0)])
def test_valid_durations(text, minutes):
    assert parse_duration(text) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "1", "h", "m", "1d", "30s", "-1h", "+1h", "1.5h", "1h 30m", " 1h", "1H",
                                  "721h", "720h1m", "1h60m", "1m1h", "9999999h", None, 5])
def test_invalid_durations_are_rejected_with_a_reason(text):
    with pytest.raises(DurationError) as excinfo:
        parse_duration(text)
    assert str(excinfo.value)


@given(st.integers(min_value=0, max_value=720 * 60))
def test_format_and_parse_round_trip(minutes):
    duration = dt.timedelta(minutes=minutes)
    text = format_duration(duration)
    assert parse_duration(text) == duration
    assert format_duration(parse_duration(text)) == text


@given(st.from_regex(r"\A([0-9]{1,3}h)?([0-9]{1,2}m)?\Z"))
def test_parsed_strings_format_back_to_an_equal_duration(text):
    try:
        duration = parse_duration(text)
    except DurationError:
        return
    assert parse_duration(format_duration(duration)) == duration


@pytest.mark.parametrize("duration", [dt.timedelta(seconds=30), dt.timedelta(hours=721), -dt.timedelta(minutes=1)])
def test_format_refuses_what_the_format_cannot_spell(duration):
    with pytest.raises(DurationError):
        format_duration(duration)
