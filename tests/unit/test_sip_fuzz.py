"""Property-based fuzzing of the SIP readers (tests/sip_fuzz.py), short and reproducible: a
seeded, derandomized hypothesis run over mutations of real messages. The long run and the
speed figures are bench/sip_fuzz.py's.

Properties, for every mutated message: the message, SDP and digest readers raise only their
declared errors; the endpoint records the datagram exactly once, with a note if and only if
it was refused; a parse takes at most 200 ms (a generous bound any loaded machine meets: the
long run's real maximum is about a millisecond, a quadratic parse takes seconds) and peaks
under 4 MiB of memory (linear in a message capped at 64 kB).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sip_fuzz import MUTATION, Mutation, check, mutate, seeds

SEEDS = seeds()
MAX_PARSE_S = 0.2
MAX_READERS_S = 1.0  # SDP, digest, Via and endpoint together: milliseconds at most
MAX_PEAK_BYTES = 4 * 1024 * 1024


@settings(max_examples=400, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=8))
def test_mutated_messages_raise_only_declared_errors(seed: bytes,
                                                     mutations: list[Mutation]) -> None:
    outcome = check(mutate(seed, mutations))
    assert outcome.undeclared == []
    assert outcome.seconds < MAX_PARSE_S
    assert outcome.readers_seconds < MAX_READERS_S
    assert outcome.peak_bytes < MAX_PEAK_BYTES


def test_seeds_are_real_messages_that_parse() -> None:
    """The run starts from messages the parser accepts (the repository's own cases at least;
    with the RFC 4475 set beside the clone, its messages too), so mutations explore near the
    paths real traffic takes rather than only the start-line check."""
    parsed = [s for s in SEEDS if check(s, memory=False).parsed]
    assert len(SEEDS) >= 20 and len(parsed) >= 20
