"""Plain-text UTF-8 mail over SMTP, for the notifications (:mod:`harness.console.notify`).

One connection per batch, STARTTLS when asked (then the certificate is checked against the
system's CAs), login only when a user is given; the password comes from the environment
(``$RECETTE_SMTP_PASSWORD``), never from the command line where ``ps`` would show it. Every
failure is a :class:`MailError` with one line that holds no password, so the outbox keeps it
as the reason and tries again later.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from harness.errors import RecetteError

PASSWORD_ENV = "RECETTE_SMTP_PASSWORD"
TIMEOUT = 10.0  # seconds for the connection and each SMTP command


class MailError(RecetteError):
    """The SMTP server could not be reached or refused the mail (one line)."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT

    @classmethod
    def parse(cls, hostport: str, sender: str, *, starttls: bool = False,
              user: str | None = None, password: str | None = None) -> Mailer:
        """From ``--smtp HOST:PORT`` (port 25 when omitted); a one-line error otherwise."""
        host, sep, port = hostport.rpartition(":")
        if not sep:
            host, port = hostport, "25"
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise RecetteError(f"--smtp: expected HOST:PORT, got {hostport!r}")
        if "@" not in sender:
            raise RecetteError(f"--smtp-from: expected an e-mail address, got {sender!r}")
        return cls(host.strip("[]"), int(port), sender, starttls, user, password)

    def message(self, mail: Mail, when: dt.datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(when.astimezone(dt.UTC))
        msg["Message-ID"] = make_msgid("recette", self.sender.rpartition("@")[2] or None)
        msg.set_content(mail.body, charset="utf-8")
        return msg

    def send(self, mails: list[Mail], when: dt.datetime) -> list[str | None]:
        """Send each mail on one connection; per mail None (accepted) or the reason it was
        refused. A connection that cannot be opened raises :class:`MailError`."""
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {self.host}:{self.port}: {_line(exc)}") from None
        out: list[str | None] = []
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
            for mail in mails:
                try:
                    smtp.send_message(self.message(mail, when))
                    out.append(None)
                except smtplib.SMTPRecipientsRefused as exc:
                    out.append(f"SMTP refused the recipient: {_line(exc)}")
                except smtplib.SMTPDataError as exc:
                    out.append(f"SMTP refused the message: {_line(exc)}")
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {self.host}:{self.port}: {_line(exc)}") from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return out


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
