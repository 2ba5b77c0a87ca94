"""harness.claims: which checks may run together, and the time left the view shows."""

from __future__ import annotations

from harness.claims import ALONE, Claims, Entry, Ledger, makespan, startable

CAPS = {"trunk01": 10, "centrex101": 1, "centrex102": 1}


def _e(ident: str, **kw: object) -> Entry:
    return Entry(ident, Claims(**kw))  # type: ignore[arg-type]


def test_calls_share_the_site_but_not_a_centrex_line() -> None:
    led = Ledger(CAPS)
    a = _e("out[c101]", site="shared", lines={"centrex101": 1})
    b = _e("in[c101]", site="shared", lines={"centrex101": 1})
    c = _e("out[trunk]", site="shared", lines={"trunk01": 1})
    assert startable([a, b, c], [], led) == [a, c]
    led.give(a.claims)
    assert startable([b], [c], led) == [b]


def test_a_trunk_takes_as_many_calls_as_its_channels_and_capacity_takes_them_all() -> None:
    led = Ledger({"trunk01": 2})
    calls = [_e(f"call{i}", site="shared", lines={"trunk01": 1}) for i in range(3)]
    cap = _e("capacity", site="shared", lines={"trunk01": None})
    assert startable([*calls, cap], [], led) == calls[:2]
    for c in calls[:2]:
        led.give(c.claims)
    assert startable([calls[2], cap], [], led) == [calls[2]]
    led.give(calls[2].claims)
    assert startable([cap], [], led) == [cap]
    assert not led.fits(calls[0].claims)


def test_the_firewall_waits_for_every_call_and_for_the_router_audit() -> None:
    led = Ledger(CAPS)
    call = _e("out", site="shared", lines={"trunk01": 1})
    audit = _e("router.audit")
    fw = _e("firewall.openings", site="exclusive", after=("router.audit",))
    nat = _e("nat.behaviour")
    assert startable([call, audit, fw, nat], [], led) == [call, audit, nat]
    led.give(audit.claims)
    assert startable([fw], [call, nat], led) == []  # the call still holds the site
    led.give(call.claims)
    assert startable([fw], [nat], led) == [fw]  # the NAT trial runs beside it


def test_after_names_checks_with_parameters_too() -> None:
    led = Ledger(CAPS)
    reg = _e("sip.register")
    later = _e("x", after=("sip.register",))
    assert startable([later], [reg], led) == []
    assert startable([later], [], led) == [later]


def test_a_check_that_declares_nothing_runs_alone() -> None:
    led = Ledger(CAPS)
    alone = Entry("old", ALONE)
    other = _e("nat")
    assert startable([other, alone], [], led) == [other]
    led.give(other.claims)
    assert startable([alone, other], [], led) == [alone]
    assert not led.fits(other.claims)


def test_time_left_follows_the_same_rules() -> None:
    calls = [_e(f"c{i}", site="shared", lines={"centrex101": 1}, expect_s=10) for i in range(2)]
    nat = _e("nat", expect_s=30)
    fw = _e("fw", site="exclusive", expect_s=8)
    # Two calls on one line one after the other (20 s), then the firewall (8 s); NAT beside.
    assert makespan([], [*calls, fw, nat], CAPS) == 30
    assert makespan([], [*calls, fw], CAPS) == 28
    assert makespan([(nat, 5.0)], [fw], CAPS) == 8
