"""Provider adapters (integrations.md §2 Redvoiss, §3 SMTP) and their fakes; config picks one.

SMS adapter:    send_sms(phone, text, label, commercial) -> {"provider_id", ...}; batch_status(provider_id) ->
                [{"destination", "message", "msgCod"}]; replies(provider_id) -> [...]; greet() -> str.
E-mail adapter: send_email(to, subject, text, html, headers, attachments, from_addr, reply_to, message_id) ->
                {"provider_id"}.
WhatsApp:       send_whatsapp(subscriber_id, text) -> {"provider_id"} (ManyChat, integrations.md §6).
Errors raise ProviderError(permanent=..., bounce=...): temporary ones are retried by the dispatcher.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate

import requests
from flask import current_app

from app.core import clock
from app.core.phone import mask_phone
from app.extensions import db

log = logging.getLogger(__name__)
TIMEOUT = 30


class ProviderError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, bounce: bool = False, response=None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.bounce = bounce
        self.response = response


# --- Redvoiss -------------------------------------------------------------------------------------------------


class RedvoissSms:
    """The Redvoiss REST contract as known from the original system's client (kept in this one class)."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.auth = (username, password)
        self.timeout = timeout

    def _request(self, method: str, path: str, **kwargs):
        try:
            resp = requests.request(method, self.base_url + path, auth=self.auth, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ProviderError(f"Redvoiss no responde: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            excerpt = resp.text[:300]
            permanent = resp.status_code in (400, 404, 422)
            raise ProviderError(
                f"Redvoiss HTTP {resp.status_code}: {excerpt}",
                permanent=permanent,
                response={"status": resp.status_code, "body": excerpt},
            )
        return resp

    def greet(self) -> str:
        return self._request("GET", "/greet").text

    def send_sms(
        self, phone: str, text: str, label: str, commercial: bool, client_id: int | None = None, with_reply: bool = True
    ) -> dict:
        body = {
            "bulkName": label,
            "message": text,
            "message_details": [{"destination": phone, "field": "", "idCliente": str(client_id or "")}],
            "isCommercial": bool(commercial),
        }
        resp = self._request("POST", "/sendWithReply" if with_reply else "/send", json=body)
        try:
            data = resp.json()
        except ValueError:
            raise ProviderError(f"Redvoiss respondió sin JSON: {resp.text[:200]}") from None
        batch = data.get("batchId") if isinstance(data, dict) else None
        if not batch:
            raise ProviderError(f"Redvoiss no entregó batchId: {str(data)[:200]}", response=data)
        return {"provider_id": str(batch), "response": data}

    def batch_status(self, provider_id: str) -> list[dict]:
        data = self._request("GET", f"/batch/{provider_id}/status").json()
        return data if isinstance(data, list) else []

    def replies(self, provider_id: str) -> list[dict]:
        data = self._request("GET", f"/batch/{provider_id}/replies").json()
        return list(data.get("messageReplyList") or []) if isinstance(data, dict) else []


# --- SMTP -----------------------------------------------------------------------------------------------------


def build_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    headers: dict | None,
    attachments: list | None,
    from_addr: str,
    reply_to: str | None,
    message_id: str | None,
) -> EmailMessage:
    """Multipart text + HTML with attachments and extra headers."""
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    if reply_to:
        msg["Reply-To"] = reply_to
    if message_id:
        msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text or "")
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, mime, content in attachments or []:
        maintype, _, subtype = (mime or "application/octet-stream").partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return msg


class SmtpEmail:
    def __init__(self, host: str, port: int, use_tls: bool, username: str, password: str, timeout: float = TIMEOUT):
        self.host, self.port, self.use_tls = host, port, use_tls
        self.username, self.password, self.timeout = username, password, timeout

    def send_email(
        self, to, subject, text, html, headers, attachments, from_addr, reply_to=None, message_id=None
    ) -> dict:
        msg = build_email(
            to=to,
            subject=subject,
            text=text,
            html=html,
            headers=headers,
            attachments=attachments,
            from_addr=from_addr,
            reply_to=reply_to,
            message_id=message_id,
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, answer = next(iter(exc.recipients.values()), (550, b""))
            raise self._error(code, answer) from None
        except smtplib.SMTPResponseException as exc:
            raise self._error(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(f"SMTP no disponible: {type(exc).__name__}") from None
        if refused:
            code, answer = next(iter(refused.values()))
            raise self._error(code, answer)
        return {"provider_id": msg["Message-ID"] or ""}

    @staticmethod
    def _error(code: int, answer) -> ProviderError:
        text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
        permanent = 500 <= int(code) < 600
        return ProviderError(
            f"SMTP {code}: {text[:300]}", permanent=permanent, bounce=permanent and int(code) in (550, 551, 553)
        )


# --- fakes and console ----------------------------------------------------------------------------------------


class FakeSms:
    """Stores what it "sends" (FakeMessage rows, shown on the fake outbox page); every batch is delivered."""

    def greet(self) -> str:
        return "fake: ok"

    def send_sms(self, phone, text, label, commercial, client_id=None, with_reply=True) -> dict:
        from app.comms.models import FakeMessage

        provider_id = f"fake-{uuid.uuid4().hex[:16]}"
        db.session.add(
            FakeMessage(
                channel="SMS",
                destination=phone,
                text=text,
                provider_id=provider_id,
                headers={"bulkName": label, "isCommercial": bool(commercial)},
                created_at=clock.now(),
            )
        )
        return {"provider_id": provider_id}

    def batch_status(self, provider_id) -> list[dict]:
        from app.comms.models import FakeMessage

        row = db.session.query(FakeMessage).filter_by(provider_id=provider_id).first()
        return [{"destination": row.destination, "message": "RECIBIDO", "msgCod": 0}] if row else []

    def replies(self, provider_id) -> list[dict]:
        return []


class FakeEmail:
    def send_email(
        self, to, subject, text, html, headers, attachments, from_addr, reply_to=None, message_id=None
    ) -> dict:
        from app.comms.models import FakeMessage

        all_headers = {"From": from_addr, "Reply-To": reply_to or "", "Message-ID": message_id or "", **(headers or {})}
        db.session.add(
            FakeMessage(
                channel="EMAIL",
                destination=to,
                subject=subject,
                text=text or "",
                html=html,
                headers=all_headers,
                provider_id=message_id or uuid.uuid4().hex,
                attachments=[{"filename": f, "mime": m, "size": len(c)} for f, m, c in attachments or []],
                created_at=clock.now(),
            )
        )
        return {"provider_id": message_id or ""}


class ConsoleSms(FakeSms):
    def send_sms(self, phone, text, label, commercial, client_id=None, with_reply=True) -> dict:
        log.info("SMS (consola) a %s [%s]: %s", mask_phone(phone), label, text)
        return {"provider_id": f"console-{uuid.uuid4().hex[:16]}"}

    def batch_status(self, provider_id) -> list[dict]:
        return []


class ConsoleEmail:
    def send_email(
        self, to, subject, text, html, headers, attachments, from_addr, reply_to=None, message_id=None
    ) -> dict:
        log.info("E-mail (consola) a %s: %s (%d adjuntos)", to, subject, len(attachments or []))
        return {"provider_id": message_id or ""}


FAKE_BACKENDS = ("fake", "console")


def sms_provider():
    backend = current_app.config.get("SMS_BACKEND", "fake")
    if backend == "fake":
        return FakeSms()
    if backend == "console":
        return ConsoleSms()
    cfg = current_app.config
    return RedvoissSms(cfg["REDVOISS_API_URL"], cfg["REDVOISS_USERNAME"], cfg["REDVOISS_PASSWORD"])


def email_provider():
    backend = current_app.config.get("EMAIL_BACKEND", "fake")
    if backend == "fake":
        return FakeEmail()
    if backend == "console":
        return ConsoleEmail()
    cfg = current_app.config
    return SmtpEmail(
        cfg["EMAIL_HOST"], cfg["EMAIL_PORT"], cfg["EMAIL_USE_TLS"], cfg["EMAIL_HOST_USER"], cfg["EMAIL_HOST_PASSWORD"]
    )


# --- ManyChat (WhatsApp) ----------------------------------------------------------------------------------------


class ManyChatWhatsApp:
    """ManyChat's API: `POST {base}/fb/sending/sendContent` with the bearer token and a v2 text message to a
    subscriber. A destination that is a phone (`+56…`, what campaigns queue) is first looked up with
    `GET {base}/fb/subscriber/findBySystemField?phone=…`; a phone with no subscriber is a permanent failure.
    4xx (unknown subscriber, window closed) are permanent; 429/5xx and network errors are retried."""

    def __init__(self, base_url: str, token: str, timeout: float = TIMEOUT):
        self.base = base_url.rstrip("/")
        self.url = self.base + "/fb/sending/sendContent"
        self.token = token
        self.timeout = timeout

    def _check(self, resp, what: str) -> dict:
        try:
            data = resp.json()
        except ValueError:
            data = {"raw": resp.text[:500]}
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ProviderError(f"ManyChat HTTP {resp.status_code}", response=data)
        if resp.status_code >= 400 or data.get("status") != "success":
            raise ProviderError(
                f"ManyChat rechazó {what}: {data.get('message') or resp.status_code}", permanent=True, response=data
            )
        return data

    def find_subscriber(self, phone: str) -> str:
        """The ManyChat subscriber id of a phone (E.164). Raises ProviderError (permanent when there is none)."""
        try:
            resp = requests.get(
                self.base + "/fb/subscriber/findBySystemField",
                params={"phone": phone},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ProviderError(f"ManyChat no respondió: {type(exc).__name__}") from exc
        data = self._check(resp, "la búsqueda del suscriptor")
        found = data.get("data")
        if isinstance(found, list):
            found = found[0] if found else None
        if not isinstance(found, dict) or not found.get("id"):
            raise ProviderError("El teléfono no es suscriptor de WhatsApp en ManyChat.", permanent=True, response=data)
        return str(found["id"])

    def send_whatsapp(self, subscriber_id: str, text: str) -> dict:
        if subscriber_id.startswith("+"):
            subscriber_id = self.find_subscriber(subscriber_id)
        body = {
            "subscriber_id": subscriber_id,
            "data": {"version": "v2", "content": {"type": "whatsapp", "messages": [{"type": "text", "text": text}]}},
        }
        try:
            resp = requests.post(
                self.url, json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ProviderError(f"ManyChat no respondió: {type(exc).__name__}") from exc
        data = self._check(resp, "el mensaje")
        return {"provider_id": f"manychat:{subscriber_id}:{uuid.uuid4().hex[:12]}", "response": data}


WHATSAPP_OFF_MESSAGE = (
    "WhatsApp no está disponible: falta configurar ManyChat (MANYCHAT_API_TOKEN). "
    "Pida al administrador que lo active para enviar campañas por WhatsApp."
)


def whatsapp_configured() -> bool:
    """WhatsApp is sent (through ManyChat) only when MANYCHAT_API_TOKEN is set (integrations.md §6)."""
    return bool(current_app.config.get("MANYCHAT_API_TOKEN"))


def whatsapp_provider():
    cfg = current_app.config
    if not cfg.get("MANYCHAT_API_TOKEN"):
        raise ProviderError("WhatsApp desactivado: falta MANYCHAT_API_TOKEN.", permanent=True)
    return ManyChatWhatsApp(cfg["MANYCHAT_API_URL"], cfg["MANYCHAT_API_TOKEN"])


def uses_fakes() -> bool:
    cfg = current_app.config
    return cfg.get("SMS_BACKEND") in FAKE_BACKENDS or cfg.get("EMAIL_BACKEND") in FAKE_BACKENDS
