"""The verdict on one test call, judged the same way by every check that places calls.

Kept apart from :mod:`sip_checks.session` (which only sets calls up) so the rule a customer's
acceptance depends on, "which direction is silent, is the quality good enough", is in one
short module.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness.messages import Msg, msg
from harness.profile import Thresholds
from sip_checks.toolkit.dialog import last_event
from sip_checks.toolkit.quality import Quality, assess
from sip_checks.toolkit.rtp import ReceiverStats
from sip_checks.toolkit.ua import CallRecord


def grade_stream(direction: Msg, st: ReceiverStats, *, sent: int | None, ptime_ms: int,
                 rtt_ms: float | None, one_way: list[float], t: Thresholds) -> Quality:
    """One received stream graded against the profile's thresholds.

    ``one_way`` are the per-packet one-way delays measured against a local sender; a stream
    from a local sender matches on nearly every packet, while a foreign stream can match a
    local RTP timestamp by chance only (random 32-bit bases), so a few matches are ignored.
    """
    measured = statistics.median(one_way) if len(one_way) > st.received / 2 else None
    return assess(direction=direction, sent=sent, received=st.received, expected=st.expected,
                  loss_pct=st.loss_pct, jitter_ms=st.jitter_ms,
                  jitter_max_ms=st.jitter_max_ms, rtt_ms=rtt_ms, ptime_ms=ptime_ms,
                  loss_max=t.loss_pct, jitter_max=t.jitter_ms, delay_max=t.one_way_delay_ms,
                  r_pass=t.r_pass, r_warn=t.r_warn, one_way_ms=measured)


def call_quality(rec: CallRecord, t: Thresholds) -> list[Quality]:
    """One :class:`Quality` per received direction of the call (far end's stream, echo)."""
    media = rec.media
    if media is None:
        return []
    rtt = statistics.median(media.echo_rtt_ms) if media.echo_rtt_ms else None
    out = []
    for ssrc, st in media.rx.items():
        own = ssrc == media.ssrc
        direction = msg("DIR_ECHO") if own else msg("DIR_FAR_TO_SITE")
        out.append(grade_stream(direction, st, sent=media.sent if own else None,
                                ptime_ms=media.ptime_ms, rtt_ms=rtt,
                                one_way=media.one_way_ms.get(ssrc, []), t=t))
    return out


def quality_findings(qualities: list[Quality]) -> tuple[Msg | None, list[Msg]]:
    """(the poor-quality symptom when a direction is bad, a reserve per direction that
    missed a threshold)."""
    bad = [q for q in qualities if q.grade == "bad"]
    poor = (msg("POOR_QUALITY", problems=[p for q in bad for p in q.problems])
            if bad else None)
    reserves = [msg("QUALITY_RESERVE", direction=q.direction, problems=list(q.problems))
                for q in qualities if q.problems]
    return poor, reserves


def far_end_kind(rec: CallRecord) -> str | None:
    """What the far end did with our audio: ``echo`` (our own stream came back),
    ``announcement`` (only its own stream came), or None (nothing came back at all)."""
    media = rec.media
    if media is None:
        return None
    if media.rx.get(media.ssrc) is not None:
        return "echo"
    if any(st.received for ssrc, st in media.rx.items() if ssrc != media.ssrc):
        return "announcement"
    return None


def test_number_kind(rec: CallRecord, declared: str | None) -> str:
    """What the test number does: as the profile says, else as detected from this call
    (an echo when nothing came back, so a silent uplink is still reported)."""
    return declared or far_end_kind(rec) or "echo"


def one_way_diagnosis(rec: CallRecord, *, echoes: bool = True) -> Msg | None:
    """Which direction is silent, from what came back; None when audio flowed both ways.

    Against a far end that does not echo (``echoes`` false), the site→far end direction
    cannot be seen from this call: it is proven by a hairpin, not declared silent here."""
    media = rec.media
    if media is None or rec.answered is None:
        return None
    far = [s for ssrc, s in media.rx.items() if ssrc != media.ssrc and s.received > 0]
    echo = media.rx.get(media.ssrc)
    if media.sent == 0:
        return msg("NO_RTP_SENT", errors=media.send_errors)
    if not far and echo is None:
        where = f"{rec.remote_media[0]}:{rec.remote_media[1]}" if rec.remote_media else "?"
        return msg("NO_AUDIO_TO_SITE", sent=media.sent, where=where)
    if far and echo is None and echoes:
        return msg("NO_AUDIO_FROM_SITE", sent=media.sent)
    return None


@dataclass(frozen=True)
class CallVerdict:
    """What one call says, judged the same way by every check that places calls.

    ``symptom`` is the single line an incident row and a failed check carry: the signalling
    failure first, then a silent direction, then poor quality; None for a good call.
    ``reserves`` are the directions whose quality is below "good" but not failing.
    """

    qualities: list[Quality]
    silent: Msg | None
    symptom: Msg | None
    reserves: list[Msg]

    @property
    def worst_mos(self) -> float:
        return min((q.mos for q in self.qualities), default=0.0)


def judge_call(rec: CallRecord, t: Thresholds, *, echoes: bool = True) -> CallVerdict:
    """The call's verdict; ``echoes`` false for a far end that plays its own audio."""
    qualities = call_quality(rec, t)
    silent = one_way_diagnosis(rec, echoes=echoes)
    signalling = rec.symptom or (None if rec.status == 200 else call_failed(rec))
    poor, reserves = quality_findings(qualities)
    return CallVerdict(qualities, silent, signalling or silent or poor, reserves)


def call_failed(rec: CallRecord) -> Msg:
    """The symptom of a call that did not connect, as signalling says it."""
    return msg("CALL_FAILED", status=rec.status, reason=rec.reason)



def cut_short(rec: CallRecord, planned_s: float, *, margin_s: float = 1.0) -> Msg | None:
    """The far end's BYE ended an answered call more than ``margin_s`` before we meant to
    hang up: the symptom says so, with the call's real duration and the in-dialog event
    before the BYE (a re-INVITE we refused, a refresh); None otherwise.

    Only for a far end that should stay on the line (an echo test number): an announcement
    may hang up once it has played."""
    if rec.ended_by != "remote" or rec.answered is None:
        return None
    byes = [i for i, e in enumerate(rec.events) if e.incoming and e.method == "BYE"]
    if not byes:
        return None
    bye = rec.events[byes[-1]]
    lasted = bye.at - rec.answered
    if lasted >= planned_s - margin_s:
        return None
    return msg("CALL_CUT_BY_FAR_END", seconds=round(max(0.0, lasted), 1), planned=planned_s,
               after=last_event(rec.events[:byes[-1]]))
