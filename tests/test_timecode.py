"""``vidsift.timecode``: the times people type and read."""

from __future__ import annotations

import pytest

from vidsift.errors import BadInputError
from vidsift.timecode import parse_time, timecode


@pytest.mark.parametrize("text,seconds", [
    ("12.5", 12.5), ("12.5s", 12.5), (" 12 ", 12.0), ("00:00:12.500", 12.5), ("1:02.5", 62.5),
    ("01:00:00", 3600.0), ("0", 0.0), (7, 7.0), (2.25, 2.25),
])
def test_parse(text, seconds) -> None:
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "-1", "1:60", "00:61:00", "nan", "inf", "1:2:3:4", True])
def test_refused_with_the_accepted_forms(text) -> None:
    with pytest.raises(BadInputError, match=r"is not a time; give seconds \(12\.5\) or a timecode"):
        parse_time(text)


def test_format() -> None:
    assert [timecode(t) for t in (0, 1.2, 62.5, 3723.0004, 3599.9996, -3)] == [
        "00:00:00.000", "00:00:01.200", "00:01:02.500", "01:02:03.000", "01:00:00.000", "00:00:00.000"]
