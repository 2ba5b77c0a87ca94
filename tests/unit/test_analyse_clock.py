"""Clock rates: RFC 3551's static table, and a dynamic type's rate read from its stream."""

from __future__ import annotations

import random

from sip_checks.analyse.clock import inferred, snap, static


def test_static_types() -> None:
    assert [static(pt) for pt in (0, 8, 9, 18, 3, 4, 10, 34)] == [
        8000, 8000, 8000, 8000, 8000, 8000, 44100, 90000]
    assert static(96) is None and static(111) is None


def test_snap_to_common_rates_or_nothing() -> None:
    assert snap(47_100) == 48000 and snap(16_300) == 16000 and snap(60_000) is None


def test_inferred_from_timestamps_against_time_despite_loss_and_jitter() -> None:
    rnd = random.Random(7)
    for step, rate in ((960, 48000), (320, 16000), (160, 8000)):
        points = [(i * 0.02 + rnd.uniform(0, 0.01), (1000 + step * i) & 0xFFFFFFFF)
                  for i in range(200) if rnd.random() > 0.3]
        assert inferred(points) == rate
    assert inferred([(0.0, 0), (0.5, 4000)]) is None  # under a second
    wrap = [(i * 0.02, (0xFFFFF000 + 960 * i) & 0xFFFFFFFF) for i in range(100)]
    assert inferred(wrap) == 48000
