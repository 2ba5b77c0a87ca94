"""A throw-away PostgreSQL cluster (Debian's server, initdb in a temporary folder, a Unix socket
only, owned by the postgres user): the gate's and the console's tests, and the console's scale
benchmark, each need one and start it the same way."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError("PostgreSQL server binaries missing: apt-get install "
                                "postgresql (setup.sh)")
    return found[-1]


@contextlib.contextmanager
def throwaway_postgres(*, prefix: str = "recette-pg-", timeout: float = 120,
                       settings: str = "") -> Iterator[str]:
    """The SQLAlchemy URL of a fresh cluster, stopped and removed on the way out;
    ``settings`` are extra ``-c name=value`` server options."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    pg = pwd.getpwnam("postgres")
    for p in (base, sock):
        os.chown(p, pg.pw_uid, pg.pw_gid)

    def as_pg(*argv: str) -> None:
        subprocess.run(["setpriv", f"--reuid={pg.pw_uid}", f"--regid={pg.pw_gid}",
                        "--init-groups", *argv], check=True, capture_output=True,
                       timeout=timeout, cwd=str(base))

    try:
        as_pg(_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        as_pg(_pg_bin("pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
              f"-k {sock} -c listen_addresses='' {settings}".strip(), "start")
        try:
            yield f"postgresql+psycopg://postgres@/postgres?host={sock}"
        finally:
            as_pg(_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(cluster_url: str, stem: str) -> str:
    """The URL of a new, empty database on ``cluster_url``'s cluster (one per test, so tests
    sharing a module's cluster never see each other's rows)."""
    import sqlalchemy as sa

    name = f"{stem}_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return cluster_url.replace("/postgres?", f"/{name}?")
