"""How a message reaches its target: 企业微信 and 钉钉 group robots, a JSON webhook, email.

* 企业微信 group robot: ``POST`` the webhook URL (``…/cgi-bin/webhook/send?key=…``) with
  ``{"msgtype": "markdown", "markdown": {"content": …}}``; success is ``errcode`` 0.
* 钉钉 custom robot: ``POST`` the webhook URL with ``{"msgtype": "markdown", "markdown":
  {"title": …, "text": …}}``; with 加签 the URL gets ``timestamp`` (ms) and ``sign`` =
  URL-encoded Base64 of HMAC-SHA256 over ``timestamp + "\\n" + secret`` keyed with the secret.
* JSON webhook: ``POST`` of the delivery as JSON; with a secret, ``X-Branchwatch-Signature:
  sha256=<hex HMAC of the body>``. ``X-Branchwatch-Delivery`` carries the delivery id, so a
  receiver can drop a repeat.
* Email: a plain-text message through the SMTP server of :class:`SmtpSettings`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from urllib.parse import quote_plus

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 10.0


class Channel(StrEnum):
    """Kinds of notification targets."""

    WECOM = "wecom"
    DINGTALK = "dingtalk"
    WEBHOOK = "webhook"
    EMAIL = "email"


class SendError(RuntimeError):
    """The target refused or could not be reached; the delivery is retried."""


class SmtpSettings(BaseSettings):
    """The mail server, from ``BRANCHWATCH_SMTP_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="BRANCHWATCH_SMTP_", extra="forbid", frozen=True)

    host: str = Field(default="localhost", description="SMTP server.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    sender: str = Field(default="branchwatch@localhost", description="From address.")
    username: str = Field(default="", description="Login, if the server wants one.")
    password: SecretStr = Field(default=SecretStr(""), description="Password of the login.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")


@dataclass(frozen=True, slots=True)
class Message:
    """One delivery as the channels see it."""

    delivery_id: int
    topic: str
    branch_id: str | None
    title: str
    body: str
    created_at: str


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` parameter of a 钉钉 robot with 加签 (already URL-encoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-Branchwatch-Signature`` of a JSON webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _markdown(message: Message) -> str:
    return f"### {message.title}\n\n{message.body}"


def _post(url: str, payload: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    try:
        response = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
            timeout=HTTP_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise SendError(f"HTTP {response.status_code}: {response.text[:200]}")
    return response


def _robot_result(response: httpx.Response) -> None:
    """Robots answer HTTP 200 with ``errcode``; anything but 0 is a failure."""
    try:
        answer = response.json()
    except ValueError as exc:
        raise SendError(f"robot answered no JSON: {response.text[:200]}") from exc
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if code != 0:
        raise SendError(f"robot refused the message: {str(answer)[:200]}")


def send_wecom(url: str, message: Message) -> None:
    """Post to a 企业微信 group robot."""
    payload: dict[str, object] = {
        "msgtype": "markdown",
        "markdown": {"content": _markdown(message)},
    }
    _robot_result(_post(url, payload, {}))


def send_dingtalk(url: str, secret: str, message: Message) -> None:
    """Post to a 钉钉 custom robot, signed when it has a 加签 secret."""
    if secret:
        stamp = int(time.time() * 1000)
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
    payload: dict[str, object] = {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": _markdown(message)},
    }
    _robot_result(_post(url, payload, {}))


def send_webhook(url: str, secret: str, message: Message) -> None:
    """Post the delivery as plain JSON."""
    payload: dict[str, object] = {
        "id": message.delivery_id,
        "topic": message.topic,
        "branch": message.branch_id,
        "title": message.title,
        "text": message.body,
        "created_at": message.created_at,
    }
    headers = {"X-Branchwatch-Delivery": str(message.delivery_id)}
    if secret:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers["X-Branchwatch-Signature"] = webhook_signature(secret, body)
    _post(url, payload, headers)


def send_email(address: str, smtp: SmtpSettings, message: Message) -> None:
    """Mail the message through the SMTP server."""
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = address
    mail["Subject"] = f"[branchwatch] {message.title}"
    mail["X-Branchwatch-Delivery"] = str(message.delivery_id)
    mail.set_content(message.body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=HTTP_TIMEOUT_S) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password.get_secret_value())
            server.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc


def send(channel: Channel, target: str, secret: str, message: Message, smtp: SmtpSettings) -> None:
    """Send one message through its channel.

    Raises:
        SendError: It did not get through (the caller retries later).
    """
    if channel is Channel.WECOM:
        send_wecom(target, message)
    elif channel is Channel.DINGTALK:
        send_dingtalk(target, secret, message)
    elif channel is Channel.WEBHOOK:
        send_webhook(target, secret, message)
    else:
        send_email(target, smtp, message)
