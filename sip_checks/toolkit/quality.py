"""Voice quality from measured RTP: ITU-T G.107 E-model R factor and MOS, and the verdict.

Simplifications, stated so an expert can judge them:
- R0 - Is = 93.2, the E-model's value at G.107 default parameters (no circuit noise, no
  sidetone problems); A = 0.
- Delay impairment Id from the Cole & Rosenbluth fit of G.107 for default echo loss:
  Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3), Ta the mouth-to-ear delay in ms, taken as
  RTT/2 + packetisation (ptime) + a jitter buffer of twice the measured jitter.
- Equipment impairment for G.711: Ie = 0 and packet-loss robustness Bpl = 25.1 (G.711 with
  packet-loss concealment, ITU-T G.113 Appendix I); Bpl = 4.3 without concealment. Random
  loss (BurstR = 1): Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl).
"""

from __future__ import annotations

from typing import Literal

from harness.messages import Msg, msg
from harness.results import QualityRow

Grade = Literal["good", "warn", "bad"]
R0_MINUS_IS = 93.2
BPL = {"G711_PLC": 25.1, "G711": 4.3}


def delay_impairment(ta_ms: float) -> float:
    """Id for mouth-to-ear delay ``ta_ms`` (Cole & Rosenbluth approximation of G.107)."""
    return 0.024 * ta_ms + (0.11 * (ta_ms - 177.3) if ta_ms > 177.3 else 0.0)


def loss_impairment(loss_pct: float, *, ie: float = 0.0, bpl: float = BPL["G711_PLC"],
                    burst_r: float = 1.0) -> float:
    """Ie,eff of G.107 §7.5 for packet loss ``loss_pct`` (%)."""
    return ie + (95 - ie) * loss_pct / (loss_pct / burst_r + bpl)


def r_factor(*, loss_pct: float, mouth_to_ear_ms: float, plc: bool = True) -> float:
    """Transmission rating R for a G.711 call."""
    bpl = BPL["G711_PLC"] if plc else BPL["G711"]
    r = R0_MINUS_IS - delay_impairment(mouth_to_ear_ms) - loss_impairment(loss_pct, bpl=bpl)
    return max(0.0, min(100.0, r))


def mos(r: float) -> float:
    """G.107 Annex B conversion of R to estimated MOS (conversational quality)."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


Quality = QualityRow  # one direction's figures and grade, as results.json carries them


def line(q: Quality) -> str:
    """One direction's figures on one line (the check's evidence)."""
    rtt = f"{q.rtt_ms:.2f} ms" if q.rtt_ms is not None else "n/a"
    sent = "?" if q.sent is None else str(q.sent)
    return (f"{q.direction}: sent {sent}, received {q.received}/{q.expected}, "
            f"loss {q.loss_pct:.2f} %, jitter {q.jitter_ms:.2f} ms "
            f"(max {q.jitter_max_ms:.2f}), RTT {rtt}, R {q.r:.1f}, "
            f"MOS {q.mos:.2f} [{q.grade}]")


def assess(
    *, direction: Msg, sent: int | None, received: int, expected: int, loss_pct: float,
    jitter_ms: float, jitter_max_ms: float, rtt_ms: float | None, ptime_ms: int,
    loss_max: float, jitter_max: float, delay_max: float, r_pass: float, r_warn: float,
    one_way_ms: float | None = None,
) -> Quality:
    """Grade one direction against the profile's thresholds.

    ``one_way_ms`` is the delay measured on one clock when both ends are ours; without it
    the one-way delay is estimated as half the echo's round trip.
    """
    one_way = one_way_ms if one_way_ms is not None else (
        rtt_ms / 2 if rtt_ms is not None else None)
    ta = (one_way or 0.0) + ptime_ms + 2 * jitter_ms
    r = r_factor(loss_pct=loss_pct, mouth_to_ear_ms=ta)
    problems: list[Msg] = []
    if loss_pct >= loss_max:
        problems.append(msg("Q_LOSS", value=f"{loss_pct:.2f}", limit=loss_max))
    if jitter_ms >= jitter_max:
        problems.append(msg("Q_JITTER", value=f"{jitter_ms:.1f}", limit=jitter_max))
    if one_way is not None and one_way >= delay_max:
        problems.append(msg("Q_DELAY", value=f"{one_way:.0f}", limit=delay_max))
    if r < r_pass:
        problems.append(msg("Q_R", value=f"{r:.1f}", limit=r_pass))
    # Below r_warn the call is bad whatever else; otherwise any threshold missed is a
    # reserve ("warn"), and a clean sheet is good.
    grade: Grade = "bad" if r < r_warn else ("warn" if problems else "good")
    return Quality(direction=direction, sent=sent, received=received, expected=expected,
                   loss_pct=loss_pct, jitter_ms=jitter_ms, jitter_max_ms=jitter_max_ms,
                   rtt_ms=rtt_ms, one_way_ms=one_way, r=r, mos=mos(r), grade=grade,
                   problems=problems)
