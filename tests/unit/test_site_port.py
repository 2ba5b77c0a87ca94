"""sip_checks.toolkit.site_port: endpoints of checks running at once share one SIP socket.

Real UDP on loopback: a peer socket plays the operator, sending what Kamailio and SIPp send
(an INVITE to the registered contact with the DID in To, a BYE in the dialog, a response).
"""

from __future__ import annotations

import asyncio
import socket

from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.message import build_request, new_branch, new_call_id

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _invite(port: int, user: str, did: str, call_id: str) -> bytes:
    return build_request("INVITE", f"sip:{user}@{HOST}:{port}", via_host=HOST, via_port=5999,
                         from_uri="sip:+33100000000@op.example", to_uri=f"sip:{did}@op.example",
                         call_id=call_id, cseq=1, branch=new_branch())


async def _until(cond: object, what: str) -> None:
    for _ in range(200):
        if callable(cond) and cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _scenario() -> None:
    port = _free_port()
    trunk_in = await SipEndpoint.open(HOST, port)
    trunk_out = await SipEndpoint.open(HOST, port)
    line = await SipEndpoint.open(HOST, port)
    assert trunk_in.local == trunk_out.local == line.local == (HOST, port)
    got: dict[int, list[str]] = {id(trunk_in): [], id(trunk_out): [], id(line): []}
    for ep in (trunk_in, trunk_out, line):
        async def on_request(req: object, peer: object, ep: SipEndpoint = ep) -> None:
            got[id(ep)].append(req.first_line)  # type: ignore[attr-defined]
        ep.on_request = on_request
    trunk_in.users.add("trunk01")
    trunk_out.users.add("trunk01")
    line.users.add("centrex101")
    trunk_in.expect("+33199000002")
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind((HOST, 0))
    try:
        # A call to the trunk's DID goes to the endpoint waiting for that number, not to the
        # other endpoint of the same trunk.
        cid = new_call_id(HOST)
        peer.sendto(_invite(port, "trunk01", "+33199000002", cid), (HOST, port))
        await _until(lambda: got[id(trunk_in)], "the INVITE")
        # Its BYE follows the Call-ID.
        bye = _invite(port, "trunk01", "+33199000002", cid).replace(b"INVITE", b"BYE")
        peer.sendto(bye, (HOST, port))
        await _until(lambda: len(got[id(trunk_in)]) == 2, "the BYE")
        # A call for the Centrex line goes by its Request-URI user.
        peer.sendto(_invite(port, "centrex101", "+33199000101", new_call_id(HOST)),
                    (HOST, port))
        await _until(lambda: got[id(line)], "the Centrex INVITE")
        assert got[id(trunk_out)] == []
        # A response goes to the endpoint whose transaction waits for it.
        branch = new_branch()
        req = build_request("OPTIONS", f"sip:{HOST}", via_host=HOST, via_port=port,
                            from_uri="sip:trunk01@op.example", to_uri=f"sip:{HOST}",
                            call_id=new_call_id(HOST), cseq=1, branch=branch)
        pending = asyncio.ensure_future(trunk_out.transaction(
            req, peer.getsockname(), branch=branch, timeout=3.0))
        await asyncio.sleep(0.05)
        data, _ = peer.recvfrom(4096)
        peer.sendto(data.replace(b"OPTIONS sip:127.0.0.1 SIP/2.0", b"SIP/2.0 200 OK", 1)
                    .split(b"\r\nContent-Length")[0] + b"\r\nContent-Length: 0\r\n\r\n",
                    (HOST, port))
        res = await pending
        assert res.final.status == 200
        assert not any(b"SIP/2.0 200" in w.data for w in line.wire)
        # Junk belongs to no one: every endpoint keeps it in its evidence.
        peer.sendto(b"\x00garbage", (HOST, port))
        await _until(lambda: all(any(w.data == b"\x00garbage" for w in ep.wire)
                                 for ep in (trunk_in, trunk_out, line)), "the junk")
        # A line's binding outlives the endpoint that leaves first.
        binding = ("trunk01", f"<sip:trunk01@127.0.0.1:{port}>")
        trunk_in.hold(binding)
        trunk_out.hold(binding)
        assert not trunk_in.release(binding)  # trunk_out still uses it: keep it
        assert trunk_out.release(binding)  # the last one may unregister
        # The socket closes with its last endpoint, and the port is free again.
        for ep in (trunk_in, trunk_out, line):
            ep.close()
        await asyncio.sleep(0.05)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
            again.bind((HOST, port))
    finally:
        peer.close()


def test_endpoints_share_the_site_port_and_each_gets_its_own_traffic() -> None:
    asyncio.run(_scenario())


async def _racing_opens() -> None:
    port = _free_port()
    eps = await asyncio.gather(*(SipEndpoint.open(HOST, port) for _ in range(5)))
    assert {ep.local for ep in eps} == {(HOST, port)}
    for ep in eps:
        ep.close()


def test_checks_starting_together_share_the_port_instead_of_racing_for_it() -> None:
    asyncio.run(_racing_opens())


async def _taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((HOST, 0))
        port = other.getsockname()[1]
        try:
            await SipEndpoint.open(HOST, port)
        except Exception as exc:
            assert "Address already in use" in str(exc)
        else:
            raise AssertionError("a port held by another program must not be shared")


def test_a_port_held_by_another_program_is_an_error() -> None:
    asyncio.run(_taken())


async def _reopen_at_once() -> None:
    """The last tenant leaves and another check opens the port in the same loop turn:
    asyncio releases the socket one turn after close(), so the open must wait for that
    rather than fail with "Address already in use"."""
    port = _free_port()
    for _ in range(20):
        first = await SipEndpoint.open(HOST, port)
        first.close()  # last out: the socket is closing, not closed yet
        again = await SipEndpoint.open(HOST, port)  # no await in between
        assert again.local == (HOST, port)
        again.close()
    await asyncio.sleep(0)


def test_a_port_closed_by_its_last_tenant_can_be_opened_again_at_once() -> None:
    asyncio.run(_reopen_at_once())
