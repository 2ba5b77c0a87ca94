"""E-model voice quality (sip_checks/toolkit/quality.py), offline.

Expected figures are worked out by hand from the published formulas, not from the module:
- G.107 Annex B: MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 for 0 < R < 100,
  1 at or below 0, 4.5 at or above 100.
- Cole & Rosenbluth fit of the delay impairment: Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3).
- G.107 §7.5 with G.113 Appendix I values for G.711: Ie,eff = Ie + (95 - Ie) Ppl / (Ppl /
  BurstR + Bpl), Ie = 0, Bpl = 25.1 with packet-loss concealment, 4.3 without.
- The module's simplification R0 - Is = 93.2 (G.107 defaults), A = 0.
"""

from __future__ import annotations

import pytest

from harness.messages import msg
from sip_checks.toolkit.quality import (
    Quality,
    assess,
    delay_impairment,
    line,
    loss_impairment,
    mos,
    r_factor,
)


@pytest.mark.parametrize(("r", "expected"), [
    # 93.2: 1 + 3.262 + 93.2 * 33.2 * 6.8 * 7e-6 = 4.262 + 0.147285824
    (93.2, 4.409285824),
    (80.0, 4.024),  # 1 + 2.8 + 80 * 20 * 20 * 7e-6
    (70.0, 3.597),  # 1 + 2.45 + 70 * 10 * 30 * 7e-6
    (60.0, 3.1),    # the cubic term vanishes at 60
    (50.0, 2.575),  # 1 + 1.75 - 50 * 10 * 50 * 7e-6
    (100.0, 4.5),
    (120.0, 4.5),
    (0.0, 1.0),
    (-5.0, 1.0),
])
def test_mos_from_r(r: float, expected: float) -> None:
    assert mos(r) == pytest.approx(expected, abs=1e-9)


def test_default_r_gives_the_textbook_mos() -> None:
    assert r_factor(loss_pct=0.0, mouth_to_ear_ms=0.0) == pytest.approx(93.2)
    assert round(mos(r_factor(loss_pct=0.0, mouth_to_ear_ms=0.0)), 2) == 4.41


def test_mos_is_monotonic_past_the_cubic_dip() -> None:
    # The Annex B cubic falls slightly below 1 for 0 < R < 6.5 (minimum 0.989 at R = 3.2, where
    # 3 R² - 320 R + 1000 = 0) and rises from there: monotonic from R = 3.3 on.
    assert mos(3.2) == pytest.approx(0.98884, abs=1e-5)
    values = [mos(r / 10) for r in range(33, 1011)]
    assert values == sorted(values)


@pytest.mark.parametrize(("ta", "expected"), [
    (0.0, 0.0),
    (100.0, 2.4),
    (177.3, 4.2552),        # the knee: 0.024 * 177.3, second term still 0
    (200.0, 7.297),         # 4.8 + 0.11 * 22.7
    (400.0, 34.097),        # 9.6 + 0.11 * 222.7
])
def test_delay_impairment(ta: float, expected: float) -> None:
    assert delay_impairment(ta) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"loss_pct": 0.0}, 0.0),
    ({"loss_pct": 1.0}, 95 / 26.1),                        # 3.6398...
    ({"loss_pct": 5.0, "bpl": 4.3}, 475 / 9.3),            # G.711 without PLC: 51.075...
    ({"loss_pct": 2.0, "burst_r": 2.0}, 190 / 26.1),       # bursty loss hurts more
    ({"loss_pct": 1.0, "ie": 10.0}, 10 + 85 / 26.1),
    ({"loss_pct": 100.0}, 9500 / 125.1),
])
def test_loss_impairment(kwargs: dict[str, float], expected: float) -> None:
    assert loss_impairment(**kwargs) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("loss", "ta", "plc", "expected"), [
    (0.0, 0.0, True, 93.2),
    (1.0, 100.0, True, 93.2 - 2.4 - 95 / 26.1),          # 87.160
    (2.0, 0.0, False, 93.2 - 190 / 6.3),                  # 63.041: no concealment
    (0.0, 400.0, True, 93.2 - 34.097),                    # 59.103: delay alone
    (100.0, 1000.0, False, 0.0),                          # clamped at 0
])
def test_r_factor(loss: float, ta: float, plc: bool, expected: float) -> None:
    assert r_factor(loss_pct=loss, mouth_to_ear_ms=ta, plc=plc) == pytest.approx(expected,
                                                                                  abs=1e-9)


def test_r_factor_known_mos_points() -> None:
    # 1 % random loss and 100 ms mouth-to-ear: R = 87.160, MOS 4.26 ("users satisfied")
    assert round(mos(r_factor(loss_pct=1.0, mouth_to_ear_ms=100.0)), 2) == 4.26
    assert mos(r_factor(loss_pct=100.0, mouth_to_ear_ms=1000.0, plc=False)) == 1.0


THRESHOLDS = dict(loss_max=1.0, jitter_max=30.0, delay_max=150.0, r_pass=80.0, r_warn=70.0)


def _assess(**kw: object) -> Quality:
    args: dict[str, object] = dict(direction=msg("DIR_FAR_TO_SITE"), sent=500, received=500,
                                   expected=500, loss_pct=0.0, jitter_ms=1.0, jitter_max_ms=3.0,
                                   rtt_ms=40.0, ptime_ms=20, **THRESHOLDS)
    args.update(kw)
    return assess(**args)  # type: ignore[arg-type]


def test_assess_clean_call_is_good() -> None:
    q = _assess()
    # Ta = 40/2 + 20 + 2 * 1 = 42 ms: Id = 1.008, R = 92.192
    assert q.one_way_ms == 20.0
    assert q.r == pytest.approx(92.192)
    assert q.mos == pytest.approx(1 + 0.035 * 92.192 + 92.192 * 32.192 * 7.808 * 7e-6)
    assert (q.grade, q.problems) == ("good", [])
    assert line(q) == ("far end→site: sent 500, received 500/500, loss 0.00 %, jitter 1.00 ms "
                       "(max 3.00), RTT 40.00 ms, R 92.2, MOS 4.39 [good]")


def test_assess_without_rtt_uses_ptime_and_jitter_buffer() -> None:
    q = _assess(rtt_ms=None, sent=None, jitter_ms=5.0)
    # Ta = 0 + 20 + 10 = 30 ms: R = 93.2 - 0.72
    assert q.one_way_ms is None and q.r == pytest.approx(92.48)
    assert line(q) == ("far end→site: sent ?, received 500/500, loss 0.00 %, jitter 5.00 ms "
                       "(max 3.00), RTT n/a, R 92.5, MOS 4.39 [good]")


@pytest.mark.parametrize(("kw", "grade", "problems"), [
    ({"loss_pct": 1.0}, "warn", ["Q_LOSS: loss 1.00 % ≥ 1 %"]),   # R 88.55: only the loss
    ({"jitter_ms": 30.0}, "warn", ["Q_JITTER: jitter 30.0 ms ≥ 30 ms"]),
    ({"rtt_ms": 300.0}, "warn", ["Q_DELAY: one-way delay 150 ms ≥ 150 ms"]),
    ({"r_pass": 93.0}, "warn", ["Q_R: R 92.2 < 93"]),
    # 10 % loss: Ie,eff = 950 / 35.1 = 27.07, R = 65.13 < r_warn 70: bad whatever else
    ({"loss_pct": 10.0}, "bad", ["Q_LOSS: loss 10.00 % ≥ 1 %", "Q_R: R 65.1 < 80"]),
    ({"rtt_ms": 299.0}, "good", []),   # 149.5 ms one way is under the 150 ms limit
])
def test_assess_grades(kw: dict[str, float], grade: str, problems: list[str]) -> None:
    q = _assess(**kw)
    assert q.grade == grade
    assert [f"{p.code}: {p}" for p in q.problems] == problems


def test_assess_delay_alone_can_make_a_call_bad() -> None:
    q = _assess(rtt_ms=700.0)
    # Ta = 350 + 20 + 2 = 372: Id = 8.928 + 0.11 * 194.7 = 30.345, R = 62.855
    assert q.r == pytest.approx(93.2 - 8.928 - 0.11 * 194.7)
    assert q.grade == "bad"
    assert [str(p) for p in q.problems] == ["one-way delay 350 ms ≥ 150 ms", "R 62.9 < 80"]
