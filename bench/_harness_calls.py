"""Driver for bench/calls_vs_sipp.py: N concurrent harness calls to the lab far end.

Run inside the LAN namespace; prints one JSON line (connected calls, CPU seconds, jitter).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from collections import Counter

from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.ua import Identity, UserAgent


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(n: int, seconds: float, server: str, port: int, local: str) -> None:
    # The CPU of the calls themselves, apart from the interpreter's start and the imports
    # (about 0.3 s, paid once per run whatever the number of calls).
    before_calls = _cpu()
    ep = await SipEndpoint.open(local, 0)
    ua = UserAgent(ep, Identity("bench", "bench", "unused", "sip.recette.example",
                                (server, port)), timeout=10)
    recs = await asyncio.gather(*(ua.call(f"08995{i:05d}", media_ip=local, duration=seconds)
                                  for i in range(n)), return_exceptions=True)
    ok = [r for r in recs if not isinstance(r, BaseException) and r.status == 200]
    total = _cpu()
    print(json.dumps({
        # How each call ended: its final status, or the exception that ended it.
        "statuses": Counter(str(getattr(r, "status", type(r).__name__)) for r in recs),
        "connected": len(ok),
        "cpu_s": total,
        "cpu_calls_s": total - before_calls,
        "user_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime,
        "sys_s": resource.getrusage(resource.RUSAGE_SELF).ru_stime,
        "sent": sum(r.media.sent for r in ok if r.media),
        "echo_jitter_ms": [r.media.rx[r.media.ssrc].jitter_ms for r in ok
                           if r.media and r.media.ssrc in r.media.rx],
        "echo_loss_pct": [r.media.rx[r.media.ssrc].loss_pct for r in ok
                          if r.media and r.media.ssrc in r.media.rx],
        "errors": [str(r) for r in recs if isinstance(r, BaseException)][:3],
    }))
    ep.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                     sys.argv[5]))
