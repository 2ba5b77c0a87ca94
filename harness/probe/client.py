"""The site agent's side of the probe control channel (see :mod:`harness.probe`)."""

from __future__ import annotations

import http.client
import json
import secrets
import ssl
import time
from typing import Any

from harness.errors import CheckError, ssl_reason
from harness.messages import Msg, msg
from harness.probe.server import AUTH_HEADER, sign


class RateLimited(CheckError):
    """The probe asked us to wait (HTTP 429); ``retry_after`` seconds."""

    def __init__(self, message: Msg, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProbeClient:
    """Signed JSON requests to one probe; every failure is a :class:`CheckError` that says
    which probe and why."""

    def __init__(self, host: str, port: int, key: bytes, *, timeout: float = 30.0,
                 vantage: str = "probe", tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.key, self.timeout = host, port, key, timeout
        self.tls = tls  # a probe served with --tls-cert: HTTPS with this context
        self._keeps_everything = False  # an older probe without /expect
        self.vantage = vantage  # "server", "outsider" or "probe": names it in messages

    def post(self, path: str, doc: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(doc).encode()
        ts, nonce = f"{time.time():.3f}", secrets.token_hex(8)
        mac = sign(self.key, ts, nonce, "POST", path, body)
        said: dict[str, Msg | str] = {"vantage": msg(f"VANTAGE_{self.vantage.upper()}"),
                                      "where": f"{self.host}:{self.port}"}
        conn = (http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                            context=self.tls) if self.tls is not None
                else http.client.HTTPConnection(self.host, self.port, timeout=self.timeout))
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json",
                                              AUTH_HEADER: f"{ts}.{nonce}.{mac}"})
            resp = conn.getresponse()
            raw = resp.read()
        except ssl.SSLCertVerificationError as exc:
            # not a firewall question: the profile pins another certificate (or none)
            raise CheckError(msg("PROBE_TLS_REJECTED", **said,
                                 detail=exc.verify_message or ssl_reason(exc))) from None
        except ssl.SSLError as exc:
            if exc.reason == "WRONG_VERSION_NUMBER":  # an HTTP answer to our hello
                raise CheckError(msg("PROBE_PLAIN_HTTP", **said, detail=ssl_reason(exc))) \
                    from None
            # A plain probe (waitress) waits for a request line in our hello, then closes:
            # likely, not certain (a middlebox does the same), so a hint, as for plain HTTP.
            detail = (msg("PROBE_EOF_ON_HTTPS", detail=ssl_reason(exc))
                      if isinstance(exc, ssl.SSLEOFError) else ssl_reason(exc))
            raise CheckError(msg("PROBE_UNREACHABLE", **said, detail=detail)) from None
        except (OSError, http.client.HTTPException) as exc:
            # An HTTPS probe's front drops plain HTTP without a word: say what that may mean,
            # or the integrator looks for a firewall while the profile lacks its tls_ca.
            detail = (msg("PROBE_CLOSED_ON_HTTP", detail=str(exc))
                                 if self.tls is None
                                 and isinstance(exc, http.client.RemoteDisconnected)
                                 else str(exc))
            raise CheckError(msg("PROBE_UNREACHABLE", **said, detail=detail)) from None
        finally:
            conn.close()
        try:
            answer: dict[str, Any] = json.loads(raw or b"{}")
        except ValueError:
            raise CheckError(msg("PROBE_NOT_JSON", **said)) from None
        if resp.status == 429:
            raise RateLimited(msg("PROBE_RATE_LIMITED", **said, path=path),
                              float(answer.get("retry_after", 2.0)))
        if resp.status != 200:
            raise CheckError(msg("PROBE_REFUSED", **said, path=path, status=resp.status,
                                 detail=str(answer.get("error", resp.reason))))
        return answer

    def expect(self, *call_ids: str) -> None:
        """Announce the Call-IDs we are about to send to the probe's SIP ports: it keeps only
        announced messages from our address (for a minute), so announce before sending. A
        probe from before announcements (404) keeps everything: nothing to announce there."""
        if self._keeps_everything:
            return
        try:
            self.post("/expect", {"call_ids": list(call_ids)})
        except CheckError as exc:
            if exc.message.params.get("status") != 404:
                raise
            self._keeps_everything = True
