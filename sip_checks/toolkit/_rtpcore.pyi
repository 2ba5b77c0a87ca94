"""Types of the C core (_rtpcore.c): the media engine's per-packet work."""

from typing import Any

class Stats:
    """ReceiverStats (rtp.py) in C: the same attributes, read-only but ``clock_rate``."""

    clock_rate: int
    received: int
    base_seq: int | None
    max_seq: int
    cycles: int
    bad_seq: int
    bad: int
    resyncs: int
    duplicates_or_late: int
    jitter: float
    jitter_sum_ms: float
    jitter_samples: int
    jitter_max_ms: float
    jitter_restarts: int
    first_arrival: float | None
    last_arrival: float | None
    expected: int
    unique: int
    lost: int
    loss_pct: float
    jitter_ms: float
    def __init__(self, clock_rate: int = 8000) -> None: ...
    def update(self, seq: int, ts: int, arrival: float, *, voice: bool = True) -> None: ...

class State:
    """A session's counters (stream._Counters) in C, over its four send-time arrays."""

    seq: int
    ts: int
    sent: int
    send_errors: int
    next_send: float
    ready: bool
    out_voice: bool
    out_dequeues: bool
    def __init__(self, tx_time: Any, tx_seq: Any, tx_ts: Any, tx_ts_key: Any) -> None: ...

def read(epoll_fd: int, by_fd: dict[int, Any], until: float,
         stats_type: type[Stats]) -> bool: ...
def receive(session: Any, data: bytes, src: tuple[Any, ...], arrival: float,
            stats_type: type[Stats]) -> None: ...
def plan(sessions: list[Any]) -> float | None: ...
def batch(sessions: list[Any], due: float) -> list[Any]: ...
def prepare(batch: list[Any]) -> None: ...
def send(batch: list[Any], due: float) -> tuple[list[Any], float]: ...
