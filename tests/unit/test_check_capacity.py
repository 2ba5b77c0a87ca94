"""sip.capacity's own arithmetic: how many calls were up at one instant (the evidence that the
channels were used together), and how long the scheduler expects it to hold its trunk when
the calls are set up at the operator's rate."""

from __future__ import annotations

from pathlib import Path

from harness.claims import Context
from harness.profile import load_profile
from sip_checks.check_capacity import peak
from sip_checks.claims import capacity
from sip_checks.toolkit.ua import CallRecord


def _call(answered: float | None, ended: float | None) -> CallRecord:
    return CallRecord("out", "a", "b", "c", started=0.0, status=200 if answered else 503,
                      answered=answered, ended=ended)


def test_calls_up_together_count_once_each() -> None:
    calls = [_call(1.0, 30.0), _call(1.2, 30.1), _call(1.4, 30.2)]
    assert peak(calls) == 3


def test_calls_one_after_another_are_not_together() -> None:
    """Three good calls, each ended before the next was answered: one channel at a time."""
    calls = [_call(1.0, 2.0), _call(2.0, 3.0), _call(3.0, 4.0)]
    assert peak(calls) == 1


def test_failed_and_unfinished_calls() -> None:
    """A call never answered holds no channel; one still up (no end yet) holds its own."""
    calls = [_call(None, None), _call(1.0, None), _call(2.0, 5.0)]
    assert peak(calls) == 2


def test_the_set_up_ramp_is_in_the_expected_time() -> None:
    src = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"
    profile = load_profile(src)
    trunk = profile.trunks[0]
    ctx = Context(profile=profile, call_seconds=20.0)
    slow = profile.model_copy(update={"operator": profile.operator.model_copy(
        update={"max_cps": 1.0})})
    fast = capacity({"trunk": trunk.user}, ctx).expect_s
    ramp = capacity({"trunk": trunk.user}, Context(profile=slow, call_seconds=20.0)).expect_s
    assert fast == 20.0 + trunk.channels / 5.0 + 1.0
    assert ramp == 20.0 + trunk.channels / 1.0 + 1.0


def test_a_load_test_beyond_the_contract_is_refused_unless_asked() -> None:
    """``--channels N`` above every trunk's ordered channels: one line naming the option, the
    profile and how to go on, before any call; ``--beyond-contract`` lets it through."""
    import pytest

    from harness.errors import RecetteError
    from harness.runner import check_channels

    src = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"
    profile = load_profile(src)  # one trunk of 10 channels
    with pytest.raises(RecetteError) as info:
        check_channels(profile, src, 240, False)
    line = str(info.value)
    assert line.startswith("--channels 240: above the 10 channels ordered in ")
    assert "--beyond-contract" in line and "\n" not in line
    check_channels(profile, src, 240, True)
    check_channels(profile, src, 10, False)
    check_channels(profile, src, 4, False)
    with pytest.raises(RecetteError, match=r"^--channels: expected 1 to 1000, got 0$"):
        check_channels(profile, src, 0, True)


def test_the_ramp_follows_the_load_tests_count() -> None:
    src = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"
    profile = load_profile(src)
    trunk = profile.trunks[0]
    ctx = Context(profile=profile, call_seconds=20.0, channels=240)
    assert capacity({"trunk": trunk.user}, ctx).expect_s == 20.0 + 240 / 5.0 + 1.0
