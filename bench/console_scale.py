"""The console at scale: 10 000 sites and 200 000 runs in a throw-away PostgreSQL (the
suite's approach: Debian's server, initdb in a temporary folder, Unix socket only), then the
server time of the sites page (first page, filtered, searched, sorted, an integrator's) and
of a site page, through Flask's test client in this process (no network: what the server
spends). Target: under 200 ms each.

    .venv/bin/python bench/console_scale.py [--sites 10000] [--runs-per-site 20] [--repeat 15]

Rows are loaded straight into the tables (the upload path is not what is measured); each run
keeps its digest, as an upload does, and the last site's runs a stored file. Figures on the
shared 2-core VM (2026-11-30, other work running; median / p90 of 15, ms): tech first page
80 / 86, light=red 89 / 109, search 38 / 40, sorted by since 70 / 85, page 50 by customer
76 / 82, a site page 19 / 21; integrator first page 70 / 75, sorted by light 72 / 75, its
site page 24 / 26. Exit 1 when a median reaches 200 ms.

With files (the default; ``--no-files`` skips them), each run also gets the file rows of an
upload with captures (results.json, sheet.html 200 kB, sheet.pdf, report.html 1 MB,
capture.pcapng 15 MB) whose bytes are a few real blobs shared by content address, so the
bench stays small on disk; the same rows are loaded a second time, in a second database,
with every file said to weigh 1 kB, and both databases' ``pg_database_size`` is reported:
the database must not depend on the files' sizes (within 5 %). Then a 50 MB capture is
downloaded through the app (test client, the response consumed chunk by chunk) while
tracemalloc and the process's RSS are watched: the peak must stay far below 50 MB.

Since the sites page's search (migration 0006) each site also has 1 to 40 DIDs over its two
trunks, written as profiles write them (national or E.164, compact or spaced; 206 667 numbers
in all) and its trunks' gate facts; one site in ten was verified again in the last three days
(waiting or activable). Load: 31–182 s (the VM's load). Figures of 2026-12-06 (the same VM,
load average 4–5 from other work; median / p90 of 15, ms): first page 86 / 117; a full DID
in national form (``03 00 20 00 80``) 122 / 133, in E.164 form 118 / 132, partial national
(``03 00 2``) 123 / 175, the last six digits (``200080``) 137 / 148; "activable maintenant"
(``now=1``) 85 / 120, gate state waiting 99 / 127, text ``Site 04242`` 82 / 101,
``client 0042`` 94 / 146, trunk and activable 136 / 162; the integrator's number search
112 / 124 and its ``now=1`` 88 / 98. A number is an index range on the terms (the suffix on
the reversed digits); what the search adds to the first page is the listing's name
substrings and the count, both over 10 000 rows.

The merged console (2026-12-07, nothing else running; median / p90 ms): DID national 101 / 104,
E.164 89 / 103, partial 111 / 123, last six digits 90 / 106, "activable maintenant" 80 / 87,
first page 64 / 70, a site page 24 / 26; pg_database_size 476.0 MB with 1 kB files and with
15 MB captures alike (0.00 %); the 50 MB download peaked at 0.4 MB (tracemalloc), RSS +0.0 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.console import numbers
from harness.console.app import create_app
from harness.console.blobs import FileBlobs
from harness.console.search import PENDING, TERMS, TRUNK_GATE
from harness.console.store import FILES, GRANTS, RUNS, SITE_ROWS, digest_of, open_console
from harness.gate.store import EVENTS, SITES, VALID, WAIT
from tests.pg import fresh_database, throwaway_postgres

T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=400)  # the console's clock while measuring
PASSWORD = "correct horse battery"


def results(site: str, fw: str, reserves: bool, mos: float, when: str) -> str:
    quality: dict[str, object] = {
               "direction": {"code": "DIR_FAR_TO_SITE", "params": {}, "text": "far end→site"},
               "sent": None, "received": 500, "expected": 500, "loss_pct": round(5 - mos, 2),
               "jitter_ms": 1.0, "jitter_max_ms": 3.0, "rtt_ms": 20.0, "one_way_ms": 10.0,
               "r": 90.0, "mos": mos, "grade": "good", "problems": []}
    checks = [{"id": "sip.call.outbound[trunk01]", "fr": "Appel sortant", "en": "Outbound",
               "status": "pass", "reserves": [{"code": "R", "params": {}, "text": "r"}]
               if reserves else [], "figures": {"quality": [quality]}},
              {"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall", "status": fw,
               "reserves": []}]
    return json.dumps({"schema_version": 2, "generated": when, "customer": site,
                       "site": site, "counts": {"pass": 1 + (fw == "pass"),
                                                "fail": int(fw == "fail"), "error": 0,
                                                "skip": 0}, "checks": checks,
                       "incidents": []})


def did_forms(i: int, n: int) -> list[str]:
    """Site ``i``'s ``n`` numbers as profiles write them: national or E.164, compact or
    spaced (each site its own block of numbers, so a full number finds one site)."""
    out = []
    for k in range(n):
        national = f"0{1 + i % 5}{(i * 40 + k) % 10**8:08d}"
        e164 = "+33" + national[1:]
        out.append((national, " ".join(national[j:j + 2] for j in range(0, 10, 2)), e164,
                    f"+33 {national[1]} " + " ".join(national[j:j + 2]
                                                     for j in range(2, 10, 2)))[k % 4])
    return out


def terms_and_gate(i: int, key: str, customer: str, fresh: dt.datetime | None,
                   last_at: dt.datetime, light: str, rnd: random.Random
                   ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Site ``i``'s search terms (1 to 40 DIDs over its two trunks) and its trunks' gate
    facts as ``_refresh_site`` writes them."""
    siret = key.split("/")[0]
    texts = [("customer", customer), ("site", f"Site {i:05d}"), ("siret", siret),
             ("trunk", "trunk01"), ("trunk", "trunk02")]
    terms: list[dict[str, object]] = [
        {"site": key, "kind": kind, "value": text.lower(), "rev": None, "owner": None,
         "shown": text} for kind, text in texts]
    for k, form in enumerate(did_forms(i, rnd.randint(1, 40))):
        digits = numbers.canonical(form)
        assert digits is not None, form
        terms.append({"site": key, "kind": "did", "value": digits, "rev": digits[::-1],
                      "owner": ("trunk01", "trunk02")[k % 2], "shown": numbers.shown(digits)})
    passed = fresh or (last_at if light != "red" else None)
    gate: list[dict[str, object]] = []
    for trunk in ("trunk01", "trunk02"):
        if passed is None:
            state, eligible, expires = "no-verification", None, None
        elif trunk == "trunk01" and i % 4 == 0 and fresh is None:
            state, eligible, expires = "active", None, None
        else:
            state, eligible, expires = PENDING, passed + WAIT, passed + VALID
        gate.append({"site": key, "trunk": trunk, "state": state, "eligible_at": eligible,
                     "expires": expires})
    return terms, gate


# An upload with captures: each file's name and realistic size (bytes).
REAL_SIZES = {"results.json": 300_000, "sheet.html": 200_000, "sheet.pdf": 400_000,
              "report.html": 1_000_000, "capture.pcapng": 15_000_000}


def blobs_for(folder: Path, sizes: dict[str, int]) -> dict[str, str]:
    """One real blob per file name (its stated size, zeros and the name), stored once by
    content address and shared by every run: their digests by name."""
    import io

    blobs = FileBlobs(folder)
    return {name: blobs.put(io.BytesIO(name.encode() + bytes(size - len(name)))).sha256
            for name, size in sizes.items()}


def load(url: str, n_sites: int, per_site: int, *,
         files: dict[str, tuple[int, str]] | None = None) -> None:
    """Bulk rows straight into the tables (the upload path would take hours for 200 000
    runs, and what is measured is reading them). ``files``: each run's file rows, name ->
    (size, sha256); None: only the last site's runs get a sheet.html."""
    store = open_console(url)
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Integrator 007")
    rnd = random.Random(15)
    t = time.monotonic()
    with store.engine.begin() as conn:
        sites, runs, events, gate_sites, grants = [], [], [], [], []
        terms: list[dict[str, object]] = []
        gates: list[dict[str, object]] = []
        run_id = 0
        for i in range(n_sites):
            key = f"{10000000000000 + i}/Site {i:05d}"
            customer, integrator = f"Client {i % 3000:04d}", f"Integrator {i % 50:03d}"
            series = []
            for k in range(per_site):
                run_id += 1
                fw = rnd.choices(("pass", "fail"), (9, 1))[0]
                res = rnd.random() < 0.2
                light = "red" if fw == "fail" else "orange" if res else "green"
                when = T0 + dt.timedelta(days=k * 15, minutes=i % 1440)
                gen = when.isoformat()
                series.append((run_id, light, when, gen))
                runs.append({"id": run_id, "run_id": f"{run_id:064x}", "site": key,
                             "site_name": f"Site {i:05d}", "customer": customer,
                             "integrator": integrator, "generated": gen, "uploaded_at": when,
                             "uploader": "alpha", "n_pass": 1 + (fw == "pass"),
                             "n_fail": int(fw == "fail"), "n_error": 0, "n_skip": 0,
                             "light": light, "trunks": '["trunk01", "trunk02"]',
                             "digest": json.dumps(digest_of(json.loads(results(
                                 key, fw, res, round(rnd.uniform(3.5, 4.4), 2), gen))))})
            last = series[-1]
            since = last[2]
            for r in reversed(series):
                if r[1] != last[1]:
                    break
                since = r[2]
            sites.append({"site": key, "site_name": f"Site {i:05d}", "customer": customer,
                          "integrator": integrator, "light": last[1], "since": since,
                          "last_run": last[0], "last_generated": last[3],
                          "trunks": '["trunk01", "trunk02"]'})
            gate_sites.append({"site": key})
            events.append({"site": key, "trunk": None, "at": last[2], "actor": "agent",
                           "kind": "verification_pass" if last[1] != "red"
                           else "verification_fail", "evidence": f"fw-{i}", "detail": None})
            if i % 4 == 0 and last[1] != "red":
                events.append({"site": key, "trunk": "trunk01", "kind": "activate",
                               "at": last[2] + dt.timedelta(days=1), "actor": "tech",
                               "evidence": None, "detail": None})
            # one site in ten verified again in the last three days: waiting or activable
            fresh = NOW - dt.timedelta(hours=i % 72) if i % 10 == 1 else None
            if fresh is not None:
                events.append({"site": key, "trunk": None, "at": fresh, "actor": "agent",
                               "kind": "verification_pass", "evidence": f"fw2-{i}",
                               "detail": None})
            mine, gate = terms_and_gate(i, key, customer, fresh, last[2], last[1], rnd)
            terms += mine
            gates += gate
            if integrator == "Integrator 007":
                grants.append({"user_id": alpha.id, "site": key})
        for table, rows in ((RUNS, runs), (SITE_ROWS, sites), (SITES, gate_sites),
                            (EVENTS, events), (GRANTS, grants), (TERMS, terms),
                            (TRUNK_GATE, gates)):
            for start in range(0, len(rows), 5000):
                conn.execute(table.insert(), rows[start:start + 5000])
        if files is None:
            conn.execute(FILES.insert(), [{"run": r["id"], "name": "sheet.html", "size": 5,
                                           "data": b"<p/>"} for r in runs[-per_site:]])
        else:
            rows_f = []
            for r in runs:
                for name, (size, sha) in files.items():
                    rows_f.append({"run": r["id"], "name": name, "size": size,
                                   "sha256": sha, "backend": "file",
                                   "kind": "capture" if name.startswith("capture")
                                   else "report" if name == "report.html" else "sheet",
                                   "stored_at": r["uploaded_at"],
                                   "expires_at": r["uploaded_at"] + dt.timedelta(days=90)})
                if len(rows_f) >= 10_000:
                    conn.execute(FILES.insert(), rows_f)
                    rows_f = []
            if rows_f:
                conn.execute(FILES.insert(), rows_f)
        conn.exec_driver_sql("SELECT setval('console_runs_id_seq', (SELECT max(id) FROM "
                             "console_runs))")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"loaded {n_sites} sites, {len(runs)} runs, {len(events)} gate events, "
          f"{sum(t['kind'] == 'did' for t in terms)} numbers in "
          f"{time.monotonic() - t:.0f} s", flush=True)
    store.engine.dispose()


def measure(url: str, n_sites: int, repeat: int) -> list[tuple[str, float, float]]:
    store = open_console(url)
    key = Path(tempfile.mkdtemp(prefix="recette-bench-")) / "console.key"
    app = create_app(store, key_file=key, now=lambda: NOW, secure_cookies=False)
    app.config["WTF_CSRF_ENABLED"] = False
    out = []
    last_site = f"/sites/{10000000000000 + n_sites - 1}/Site {n_sites - 1:05d}"
    probe = n_sites // 2 + 2  # a site in the middle; its first number is national
    national = did_forms(probe, 1)[0]
    spaced = " ".join(national[j:j + 2] for j in range(0, 10, 2))
    e164 = f"+33 {national[1]} " + " ".join(national[j:j + 2] for j in range(2, 10, 2))
    searches = [f"/?q={spaced}", f"/?q={e164}", f"/?q={spaced[:7]}",
                f"/?q={national[-6:]}", "/?now=1", "/?gate=waiting", "/?q=Site 04242",
                "/?q=trunk02&now=1"]
    for user, paths in (("tech", ["/", "/?light=red", "/?q=client 0042",
                                  "/?sort=since&dir=desc", "/?sort=customer&page=50",
                                  last_site, *searches]),
                        ("alpha", ["/", "/?sort=light", "/sites/10000000000007/Site 00007",
                                   f"/?q={spaced}", "/?now=1"])):
        client = app.test_client()
        client.post("/login", data={"username": user, "password": PASSWORD})
        for path in paths:
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                resp = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert resp.status_code == 200, (path, resp.status_code)
            if user == "tech" and path in searches[:2]:  # the number finds its site
                assert f"Site {probe:05d}" in resp.get_data(as_text=True), path
            times.sort()
            out.append((f"{user} {path}", statistics.median(times),
                        times[int(len(times) * 0.9) - 1]))
    store.engine.dispose()
    return out


def db_size(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("CHECKPOINT")
        size = int(conn.exec_driver_sql("SELECT pg_database_size(current_database())")
                   .scalar_one())
    engine.dispose()
    return size


def download(url: str, folder: Path, size: int = 50_000_000) -> tuple[int, float, float]:
    """A ``size``-byte capture uploaded through the store (a file object, not bytes) and
    downloaded through the app, the body consumed chunk by chunk: (bytes read, tracemalloc
    peak MB, RSS growth MB) of the download alone."""
    import tracemalloc

    store = open_console(url)
    store._blobs = FileBlobs(folder)
    tech = store.user_by_name("tech")
    assert tech is not None
    big = folder / "upload.pcapng"
    with open(big, "wb") as f:
        for _ in range(size // 1_000_000):
            f.write(b"\x0a" * 1_000_000)
    when = (T0 + dt.timedelta(days=399)).isoformat()
    with open(big, "rb") as capture:
        run, _ = store.add_run({"results.json": results("s", "pass", False, 4.2, when)
                                .encode(), "capture.pcapng": capture}, uploader=tech,
                               at=T0 + dt.timedelta(days=400))
    key = Path(tempfile.mkdtemp(prefix="recette-bench-")) / "console.key"
    app = create_app(store, key_file=key, now=lambda: T0 + dt.timedelta(days=400),
                     secure_cookies=False)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": "tech", "password": PASSWORD})
    def rss_now() -> int:  # the resident set now (ru_maxrss is the whole life's peak)
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf(
            "SC_PAGE_SIZE")

    rss0 = top = rss_now()
    tracemalloc.start()
    resp = client.get(f"/runs/{run.id}/capture.pcapng", buffered=False)
    got = 0
    for chunk in resp.response:
        got += len(chunk)
        top = max(top, rss_now())
    resp.close()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = (top - rss0) / 1e3
    store.engine.dispose()
    return got, peak / 1e6, rss / 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--runs-per-site", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-files", action="store_true",
                    help="no file rows (the pages only, as before the files left the "
                    "database)")
    args = ap.parse_args()
    sizes: list[tuple[str, int]] = []
    folder = Path(tempfile.mkdtemp(prefix="recette-bench-files-"))
    try:
        with throwaway_postgres(prefix="recette-pg-bench-", timeout=300,
                                settings="-c fsync=off") as url:
            if args.no_files:
                load(url, args.sites, args.runs_per_site)
            else:
                real = blobs_for(folder / "blobs", REAL_SIZES)
                small = blobs_for(folder / "blobs", dict.fromkeys(REAL_SIZES, 1000))
                load(url, args.sites, args.runs_per_site,
                     files={n: (REAL_SIZES[n], real[n]) for n in REAL_SIZES})
                other = fresh_database(url, "bench_small")
                load(other, args.sites, args.runs_per_site,
                     files={n: (1000, small[n]) for n in REAL_SIZES})
                sizes = [("files of 1 kB", db_size(other)),
                         ("files of realistic sizes (capture 15 MB)", db_size(url))]
            rows = measure(url, args.sites, args.repeat)
            got, peak, rss = (0, 0.0, 0.0) if args.no_files else download(
                url, folder / "download")
    except FileNotFoundError as exc:  # no PostgreSQL server: one line, as before
        sys.exit(str(exc))
    print(f"{'page':<58} {'median ms':>10} {'p90 ms':>8}")
    for name, med, p90 in rows:
        print(f"{name:<58} {med:>10.1f} {p90:>8.1f}")
    ok = all(med < 200 for _, med, _ in rows)
    if sizes:
        runs = args.sites * args.runs_per_site
        for name, size in sizes:
            print(f"pg_database_size, {runs} runs x {len(REAL_SIZES)} files, {name}: "
                  f"{size / 1e6:.1f} MB")
        apart = abs(sizes[1][1] - sizes[0][1]) / sizes[0][1]
        print(f"difference: {apart:.2%} (files outside the database: target < 5 %)")
        print(f"50 MB capture download: {got} bytes read by chunks, tracemalloc peak "
              f"{peak:.1f} MB, RSS growth {rss:.1f} MB (target: far below 50 MB)")
        ok = ok and apart < 0.05 and got == 50_000_000 and peak < 10 and rss < 25
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
