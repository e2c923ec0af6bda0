"""Sending e-mail (issue 25): the mail settings, one message with inline images, delivery.

Settings come from the environment, like the store's:
- `KPI_SMTP_URL`: `smtp://user:password@host:port` (STARTTLS whenever the server offers it;
  port 587 by default) or `smtps://…` (TLS from the first byte; port 465 by default). User and
  password are percent-decoded (`%40` for an `@` in a password). Certificates are checked
  against the system's trust store (`SSL_CERT_FILE` names another bundle, e.g. a city's own CA).
- `KPI_MAIL_FROM`: the sender address (default `kinerja@<host of the SMTP URL>`).
- `KPI_BASE_URL`: the dashboard's address, for the links in messages.
- `KPI_SMTP_TIMEOUT`: seconds to wait for the server (default 10).

The password lives only in `MailSettings.password`, which no repr, message or error shows:
errors name the server as `host:port` and nothing else of the URL.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kpi.errors import KinerjaError

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
DEFAULT_TIMEOUT = 10.0


class MailNotConfigured(KinerjaError):
    """No KPI_SMTP_URL: nothing can be sent (a dry run still can be written)."""

    key = "mail.error_not_configured"


class MailUnavailable(KinerjaError):
    """The mail server could not be reached, refused the sign-in or the connection broke."""

    key = "mail.error_unavailable"


@dataclass(frozen=True)
class MailSettings:
    scheme: str          # smtp (STARTTLS when offered) | smtps (implicit TLS)
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    sender: str
    timeout: float = DEFAULT_TIMEOUT

    @property
    def server(self) -> str:
        """`host:port`: how messages and errors name the server (never with the credentials)."""
        return f"{self.host}:{self.port}"


def settings(url: str | None = None) -> MailSettings:
    """The mail settings from `url` or `KPI_SMTP_URL`; MailNotConfigured without one, and a
    sentence naming what is wrong (never the URL itself, which holds the password)."""
    text = (url if url is not None else os.environ.get("KPI_SMTP_URL", "")).strip()
    if not text:
        raise MailNotConfigured()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise KinerjaError("mail.error_url") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise KinerjaError("mail.error_url")
    host = parts.hostname
    timeout = float(os.environ.get("KPI_SMTP_TIMEOUT") or DEFAULT_TIMEOUT)
    return MailSettings(
        scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=os.environ.get("KPI_MAIL_FROM") or f"kinerja@{host}", timeout=timeout)


def sender_address() -> str:
    """The From address for a dry run, which may have no SMTP URL."""
    try:
        return settings().sender
    except KinerjaError:
        return os.environ.get("KPI_MAIL_FROM") or "kinerja@localhost"


# -- one message -------------------------------------------------------------------------------
def build_message(*, sender: str, to: str, subject: str, text: str, html: str,
                  images: dict[str, bytes] | None = None, lang: str = "id") -> EmailMessage:
    """A multipart/alternative message (plain text, then HTML); the HTML's images travel with
    it as multipart/related parts, each named by its `cid:` in the HTML (no remote image)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # One line: a unit name with a line break (a quoted CSV cell) must not break the header.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    message["Content-Language"] = lang
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    html_part = message.get_body(("html",))
    assert html_part is not None  # just added
    for cid, image in (images or {}).items():
        subtype = "jpeg" if image[:3] == b"\xff\xd8\xff" else "png"
        html_part.add_related(image, "image", subtype, cid=f"<{cid}>",
                              filename=f"{cid.split('@')[0]}.{'jpg' if subtype == 'jpeg' else 'png'}",
                              disposition="inline")
    return message


# -- delivery ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What became of one message: sent, or the reason it was not."""

    ok: bool
    error: str | None = None


def _connect(mail: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if mail.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout,
                                                context=context)
    else:
        client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif mail.username:  # never a password over a connection anyone on the way can read
            client.close()
            raise MailUnavailable("mail.error_no_tls", server=mail.server)
    if mail.username:
        client.login(mail.username, mail.password or "")
    return client


def _reason(error: BaseException) -> str:
    """A short reason for a log line or a sentence: the server's answer or the OS error, with
    anything that looks like the URL's credentials left out."""
    if isinstance(error, smtplib.SMTPResponseException):
        detail = error.smtp_error.decode("utf-8", "replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        text = f"{error.smtp_code} {detail}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {answer.decode('utf-8', 'replace')}"
                         for code, answer in error.recipients.values())
    else:
        text = str(error) or type(error).__name__
    return re.sub(r"\s+", " ", text).strip()[:300]


def send(mail: MailSettings, messages: Sequence[EmailMessage]) -> list[Outcome]:
    """Send `messages` over one connection. MailUnavailable (one sentence naming the server, no
    credentials) when the server cannot be reached or refuses the sign-in: then nothing was
    sent. A message the server refuses, or one after the connection broke, has a failed
    Outcome; the ones before it were sent."""
    if not messages:
        return []
    try:
        client = _connect(mail)
    except MailUnavailable:
        raise
    except (OSError, smtplib.SMTPException) as error:
        raise MailUnavailable(server=mail.server, reason=_reason(error)) from None
    outcomes: list[Outcome] = []
    broken: str | None = None
    try:
        for message in messages:
            if broken is not None:
                outcomes.append(Outcome(False, broken))
                continue
            try:
                client.send_message(message)
                outcomes.append(Outcome(True))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as error:
                outcomes.append(Outcome(False, _reason(error)))
            except (OSError, smtplib.SMTPException) as error:
                broken = _reason(error)
                outcomes.append(Outcome(False, broken))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return outcomes


def write_dry_run(folder: str | os.PathLike[str], messages: Sequence[tuple[str, EmailMessage]]
                  ) -> list[Path]:
    """Write each (file stem, message) as `<stem>.eml` into `folder` (a dry run: nothing sent);
    returns the paths. Written under a temporary name first: never a half-written file."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, message in messages:
        safe = re.sub(r"[^A-Za-z0-9._@+-]+", "_", stem)
        path = target / f"{safe}.eml"
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(message.as_bytes(policy=SMTP))
        partial.replace(path)
        paths.append(path)
    return paths
