"""RTP without SDP: streams paired by address and port, and one-way audio only suspected
where the capture shows other conversations both ways."""

from __future__ import annotations

from harness.messages import msg
from sip_checks.analyse.conversations import findings, pair
from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.quality import Quality, assess


def _s(src: tuple[str, int], dst: tuple[str, int], start: float = 0.0,
       loss_pct: float = 0.0) -> tuple[Stream, Quality]:
    s = Stream(src, dst, hash((src, dst)) & 0xFFFF, 8)
    s.stats.update(0, 0, start)
    s.stats.update(99, 99 * 160, start + 2)
    q = assess(direction=msg("AN_DIR", where=s.where), sent=None, received=100, expected=100,
               loss_pct=loss_pct, jitter_ms=0, jitter_max_ms=0, rtt_ms=None, ptime_ms=20,
               loss_max=1, jitter_max=30, delay_max=150, r_pass=80, r_warn=70)
    s.packets = 100
    return s, q


A, B, C, D = ("10.0.0.1", 4000), ("192.0.2.1", 5000), ("10.0.0.1", 4002), ("192.0.2.9", 5002)


def test_pairs_by_swapped_ports_then_by_addresses_at_the_same_time() -> None:
    convs = pair([_s(A, B), _s(C, D, 0.5), _s(B, A, 0.1), _s(("192.0.2.9", 6000), C, 0.6)])
    assert [(c.a[0].src, c.b[0].src if c.b else None, c.symmetric) for c in convs] == [
        (A, B, True), (C, ("192.0.2.9", 6000), False)]


def test_no_reverse_is_suspected_only_when_others_flow_both_ways() -> None:
    codes = [f.code for f in findings([_s(A, B), _s(B, A), _s(C, D)], signalled=False)]
    assert codes == ["AN_RTP_NO_SIGNALLING", "AN_RTP_ONE_WAY_INFERRED"]
    codes = [f.code for f in findings([_s(A, B), _s(C, D)], signalled=True)]
    assert codes == ["AN_RTP_ONE_SIDED_CAPTURE"]
    # a call of the capture seen both ways shows the capture point sees both directions
    found = findings([_s(A, B)], signalled=True, two_way_calls=1)
    assert [f.code for f in found] == ["AN_RTP_ONE_WAY_INFERRED"]


def test_two_clean_ways_with_signalling_find_nothing_and_poor_quality_is_said() -> None:
    assert findings([_s(A, B), _s(B, A)], signalled=True) == []
    assert findings([], signalled=False) == []
    (poor,) = findings([_s(A, B), _s(B, A, loss_pct=30)], signalled=True)
    assert poor.code == "AN_RTP_POOR" and "192.0.2.1:5000→10.0.0.1:4000" in poor.render("en")
