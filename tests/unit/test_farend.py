"""The reference lab's operator-side caller (harness/lab/farend.py): ports of callers that
run at once."""

from __future__ import annotations

from harness.lab import farend


def test_callers_running_at_once_never_share_a_sip_port_or_a_media_block() -> None:
    """SIPp's -rtp_echo binds the media port and the next even one: two callers at once
    must not overlap there, nor on their SIP port (a clash made one SIPp exit unheard)."""
    farend._IN_USE.clear()
    taken = [farend._take_ports() for _ in range(300)]
    try:
        sip = [p for p, _ in taken]
        media = [m for _, m in taken]
        assert len(set(sip)) == len(sip) and len(set(media)) == len(media)
        bound = [x for m in media for x in (m, m + 2)]
        assert len(set(bound)) == len(bound) and not set(bound) & set(sip)
        assert all(5100 <= p < 5500 for p in sip) and all(7000 <= m < 8600 for m in media)
    finally:
        farend._IN_USE.clear()
