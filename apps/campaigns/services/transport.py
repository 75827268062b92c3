"""Delivering one email through Django's email backend so that it is sent at most once.

With the SMTP backend (EMAIL_HOST set) the message goes over one kept connection: MAIL, RCPT,
DATA and the content, then `commit()` (which marks the row sent in its own database commit),
and only then the final "." that tells the server to deliver. A sender that dies before the
commit leaves the server with an unfinished message, which it discards, and the row pending:
the next sender sends it. If `commit()` finds the row already sent by someone else, the
connection is dropped before the "." and nothing is delivered. Other backends (files,
console, memory: development) are told to send after the commit.
"""

from __future__ import annotations

import re
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Outcome:
    """sent: accepted for delivery; abandoned: another sender had it; refused: the server said
    no (permanent: 5xx, else try again later); lost: the connection broke before the commit."""

    status: str  # sent | abandoned | refused | lost
    code: int = 0
    detail: str = ""
    permanent: bool = False
    stage: str = ""  # mail | rcpt | data | end (where a refusal came)
    committed: bool = False  # commit() ran and marked the row sent


class Transport:
    """One sender's connection to the mail server (use as a context manager)."""

    def __init__(self) -> None:
        self.backend: Any = get_connection(fail_silently=False)
        self.smtp = isinstance(self.backend, SMTPBackend)

    def __enter__(self) -> Transport:
        self.backend.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass

    def _connection(self) -> smtplib.SMTP:
        if self.backend.connection is None:
            self.backend.open()
        connection = self.backend.connection
        if getattr(connection, "sock", None) is not None and not getattr(
            connection, "_smartmkt_nodelay", False
        ):
            # The final "." goes out alone after the commit: without this, Nagle's algorithm
            # holds it until the server acknowledges the content (a 40 ms delayed ACK).
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection._smartmkt_nodelay = True
        return connection

    def _drop(self) -> None:
        connection, self.backend.connection = self.backend.connection, None
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass

    def send(self, email: EmailMessage, commit: Callable[[], bool]) -> Outcome:
        if not self.smtp:
            if not commit():
                return Outcome("abandoned")
            self.backend.send_messages([email])
            return Outcome("sent", committed=True)
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email.recipients()]
        mime: Any = email.message()
        content = _LEADING_DOT.sub(b"..", mime.as_bytes(linesep="\r\n"))
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        try:
            connection = self._connection()
            connection.ehlo_or_helo_if_needed()
            code, reply = connection.mail(sender)
            if code != 250:
                return self._refused(connection, code, reply, "mail")
            for recipient in recipients:
                code, reply = connection.rcpt(recipient)
                if code not in (250, 251):
                    return self._refused(connection, code, reply, "rcpt")
            connection.putcmd("data")
            code, reply = connection.getreply()
            if code != 354:
                return self._refused(connection, code, reply, "data")
            connection.send(content)
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return Outcome("lost", detail=str(error)[:500])
        if not commit():
            self._drop()  # the server discards the unfinished message
            return Outcome("abandoned")
        try:
            connection.send(b".\r\n")
        except (smtplib.SMTPException, OSError) as error:
            self._drop()  # the end never left: nothing was delivered
            return Outcome("lost", detail=str(error)[:500], committed=True)
        try:
            code, reply = connection.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()  # delivered or not, unknown: counted sent (at most once)
            return Outcome("sent", detail=f"no reply after the end: {error}"[:500], committed=True)
        if code != 250:
            return Outcome(
                "refused",
                code=code,
                detail=_text(reply),
                permanent=code >= 500,
                stage="end",
                committed=True,
            )
        return Outcome("sent", code=code, committed=True)

    def _refused(self, connection: smtplib.SMTP, code: int, reply: bytes, stage: str) -> Outcome:
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        return Outcome(
            "refused", code=code, detail=_text(reply), permanent=code >= 500, stage=stage
        )


def _text(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return text[:500]


class WebhookTransport:
    """The webhook channel (an SMS or push provider): each message is POSTed as JSON to the
    campaign's address, with `Idempotency-Key: <message token>` so a provider that dedupes by
    it delivers a retried request once. The row is marked sent before the request (at most
    once); a refused or failed request marks it back for a later try."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def __enter__(self) -> WebhookTransport:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def send(self, payload: dict[str, Any], commit: Callable[[], bool]) -> Outcome:
        import json
        import urllib.error
        import urllib.request

        if not commit():
            return Outcome("abandoned")
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": payload["token"]},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Outcome("sent", code=response.status, committed=True)
        except urllib.error.HTTPError as error:
            return Outcome(
                "refused",
                code=error.code,
                detail=str(error.reason)[:500],
                permanent=400 <= error.code < 500 and error.code != 429,
                stage="end",
                committed=True,
            )
        except (urllib.error.URLError, OSError) as error:
            return Outcome("lost", detail=str(error)[:500], committed=True)
