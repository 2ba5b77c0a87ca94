"""Acceptance: the international-option gate on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started by the fixture itself (Debian's postgresql, initdb in a
temporary folder, Unix socket only), so the same tests run against both stores."""

from __future__ import annotations

import datetime as dt
import getpass
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from harness.gate.store import VALID, GateRefused, GateStore, open_store
from tests.pg import throwaway_postgres

T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster owned by the postgres user, listening on a socket."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gate.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"gate_{os.getpid()}_{int(time.monotonic_ns() % 10**9)}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield base.replace("/postgres?", f"/{name}?")
    engine.dispose()


def test_activation_waits_24_hours_after_a_pass(url: str) -> None:
    store = open_store(url)
    store.record("site", passed=True, actor="tech", evidence="fw-1", at=T0)
    with pytest.raises(GateRefused) as exc:
        store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(hours=20, minutes=15))
    assert "activation allowed from 2026-11-03 09:30Z, in 3 h 45 min" in str(exc.value)
    st = store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(hours=24))
    assert st.state == "active"
    assert [e.kind for e in store.history("site")] == ["verification_pass", "activate"]


def test_an_unattested_pass_starts_nothing_and_a_stale_one_expires(url: str) -> None:
    store = open_store(url)
    store.record("site", passed=True, actor="console", evidence="run-1", at=T0,
                 kind="verification_unattested")
    assert store.status("site", "t", at=T0 + dt.timedelta(days=2)).state == "no-verification"
    store.record("site", passed=True, actor="console", evidence="run-2", at=T0)
    assert store.status("site", "t", at=T0 + VALID - dt.timedelta(minutes=1)).state \
        == "eligible"
    late = T0 + VALID
    assert store.status("site", "t", at=late).state == "expired"
    with pytest.raises(GateRefused, match="older than 30 days"):
        store.activate("site", "t", actor="tech", at=late)
    # Activated in time, the option stays on: the verification is not needed again.
    store.activate("site", "u", actor="tech", at=T0 + dt.timedelta(days=2))
    assert store.status("site", "u", at=late + dt.timedelta(days=90)).state == "active"


def test_a_later_failure_blocks_activation(url: str) -> None:
    store = open_store(url)
    store.record("site", passed=True, actor="tech", evidence="fw-1", at=T0)
    store.record("site", passed=False, actor="tech", evidence="fw-2",
                 at=T0 + dt.timedelta(hours=2))
    with pytest.raises(GateRefused, match="failed after the pass"):
        store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(days=3))
    assert store.status("site", "trunk", at=T0 + dt.timedelta(days=3)).state == "blocked"


def test_revocation_then_new_pass_restarts_the_24_hours(url: str) -> None:
    store = open_store(url)
    store.record("site", passed=True, actor="tech", evidence="fw-1", at=T0)
    store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(hours=25))
    st = store.revoke("site", "trunk", actor="noc", reason="toll fraud",
                      destinations=["+882", "+979"], at=T0 + dt.timedelta(hours=30))
    assert st.state == "revoked"
    with pytest.raises(GateRefused, match="revoked"):
        store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(hours=31))
    store.record("site", passed=True, actor="tech", evidence="fw-2",
                 at=T0 + dt.timedelta(hours=32))
    with pytest.raises(GateRefused, match="in 23 h 00 min"):
        store.activate("site", "trunk", actor="tech", at=T0 + dt.timedelta(hours=33))
    assert store.activate("site", "trunk", actor="tech",
                          at=T0 + dt.timedelta(hours=56)).state == "active"
    revoke = next(e for e in store.history("site") if e.kind == "revoke")
    assert revoke.detail == {"reason": "toll fraud", "destinations": ["+882", "+979"]}
    assert revoke.actor == "noc"


WORKER = """
import sys, datetime as dt
from harness.gate.store import open_store, GateRefused
url, role, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(url)
t0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)
for i in range(n):
    if role == "record":
        store.record("site", passed=True, actor="w1", evidence=f"fw-{i}", at=t0)
    else:
        try:
            store.activate("site", "trunk", actor="w2", at=t0 + dt.timedelta(hours=25))
        except GateRefused:
            pass
print("done")
"""


def test_concurrent_record_and_activate_never_corrupt(url: str) -> None:
    # Migrate once and record a first pass, so the activating worker has something to
    # act on however the two processes happen to be scheduled; then both hammer it.
    open_store(url).record("site", passed=True, actor="w0", evidence="fw-start",
                           at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, role, "40"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for role in ("record", "activate")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "done", err[-2000:]
    events = open_store(url).history("site")
    assert sum(e.kind == "verification_pass" for e in events) == 41
    activations = [e for e in events if e.kind == "activate"]
    # An activation counts only once per pass it follows: never twice in a row.
    kinds = [e.kind for e in events]
    assert all(not (a == b == "activate") for a, b in itertools.pairwise(kinds))
    assert activations
    assert len({e.id for e in events}) == len(events)


KILLED = """
import sys, time, datetime as dt
from harness.gate.store import open_store, EVENTS
store = open_store(sys.argv[1])
store.record("site", passed=True, actor="first", evidence="fw-ok")
with store._tx() as conn:
    store._lock(conn, "site")
    conn.execute(EVENTS.insert().values(site="site", trunk=None, kind="verification_fail",
                                        at=dt.datetime.now(dt.timezone.utc), actor="killed",
                                        evidence="fw-half", detail=None))
    print("inside", flush=True)
    time.sleep(60)
"""


def test_sigkill_mid_transaction_leaves_a_consistent_store(url: str) -> None:
    p = subprocess.Popen([sys.executable, "-c", KILLED, url], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "inside", p.stderr.read() if p.stderr else ""
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    store: GateStore = open_store(url)
    events = store.history("site")
    assert [(e.kind, e.evidence) for e in events] == [("verification_pass", "fw-ok")]
    # ...and the store still takes writes (no lock left behind).
    store.record("site", passed=True, actor="after", evidence="fw-next")
    assert len(store.history("site")) == 2
    if url.startswith("sqlite"):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_cli_cannot_record_activate_backdate_or_name_an_actor(tmp_path: Path) -> None:
    """The attacks of issue 22 through the shell: a pass recorded back-dated
    (``RECETTE_NOW``) with any ``--actor``, then activated at once. The shell now only reads
    the gate and closes it (a fraud block, under the login name); the clock is the machine's.
    """
    url = f"sqlite:///{tmp_path / 'g.db'}"
    env = {**os.environ, "RECETTE_GATE_URL": url, "RECETTE_NOW": "2020-01-01T00:00:00+00:00"}

    def gate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness.cli", "gate", *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60)

    forged = gate("record", "s1", "--result", "pass", "--evidence", "fw-1", "--actor", "julie")
    assert forged.returncode == 2 and "invalid choice: 'record'" in forged.stderr
    assert gate("activate", "s1", "--trunk", "t1").returncode == 2
    # Nor can a site agent put a run into the store behind the console's back.
    local = subprocess.run([sys.executable, "-m", "harness.cli", "upload", str(tmp_path),
                            "--local"], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=60)
    assert local.returncode == 2 and "--url" in local.stderr
    assert "--actor" in gate("revoke", "s1", "--trunk", "t1", "--reason", "x",
                             "--actor", "julie").stderr
    # A pass recorded by the console (its clock: now), then the shell's view of it.
    open_store(url).record("s1", passed=True, actor="console", evidence="run-1")
    status = gate("status", "s1", "--trunk", "t1")
    assert status.returncode == 0 and ": waiting: verified " in status.stdout
    assert "2020-" not in status.stdout  # RECETTE_NOW moves nothing
    revoked = gate("revoke", "s1", "--trunk", "t1", "--reason", "fraud suspected")
    assert revoked.returncode == 0 and ": revoked:" in revoked.stdout
    hist = gate("history", "s1").stdout.splitlines()
    assert hist[0].endswith("verification_pass by console [run-1]")
    assert f"revoke trunk t1 by {getpass.getuser()} (shell)" in hist[1]
