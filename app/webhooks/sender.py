"""The webhook HTTP adapter (spec integrations.md: real `requests` with explicit timeouts, and a fake).

`WEBHOOK_BACKEND=http` posts for real (production default); `fake` records the requests in memory and answers
200, so the demo and the tests never touch the network.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app

TIMEOUT_SECONDS = 10
USER_AGENT = "Aremko-Webhooks/1"


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 with the endpoint secret over `timestamp + "." + raw_body`."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, event: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Aremko-Event": event,
        "X-Aremko-Delivery": event_id,
        "X-Aremko-Timestamp": str(timestamp),
        "X-Aremko-Signature": "sha256=" + signature(secret, timestamp, body),
    }


@dataclass
class SendResult:
    status_code: int | None  # None: no HTTP answer (timeout, refused, DNS)
    text: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class HttpSender:
    """POSTs to the address the host resolved to after the SSRF check (netguard), never to a second lookup; TLS
    still verifies the certificate against the URL's host name (SNI + hostname check). Reads at most a few KB of
    the answer, keeps 500 characters."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        import urllib3

        from app.webhooks.netguard import UnsafeTarget, resolve

        parts = urlsplit(url)
        https = parts.scheme == "https"
        try:
            port = parts.port or (443 if https else 80)
            address = resolve(parts.hostname or "", port)[0]
        except UnsafeTarget as exc:
            return SendResult(None, error=str(exc)[:500])
        except ValueError:
            return SendResult(None, error="URL inválida.")
        timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
        if https:
            import certifi

            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                timeout=timeout,
                retries=False,
                server_hostname=parts.hostname,
                assert_hostname=parts.hostname,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            resp = pool.urlopen(
                "POST",
                path,
                body=body,
                headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]},
                redirect=False,
                preload_content=False,
            )
            try:
                text = resp.read(4096, decode_content=True).decode("utf-8", "replace")
            finally:
                resp.release_conn()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return SendResult(None, error=f"{type(exc).__name__}: {exc}"[:500])
        finally:
            pool.close()
        return SendResult(resp.status, text[:500])


@dataclass
class FakeRequest:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeSender:
    """Records every request; answers `status_code` (tests set it, or a callable url -> SendResult)."""

    requests: list[FakeRequest] = field(default_factory=list)
    status_code: int = 200
    responder: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        with self._lock:
            self.requests.append(FakeRequest(url, body, dict(headers)))
        if callable(self.responder):
            return self.responder(url)
        return SendResult(self.status_code, "ok" if self.status_code < 300 else "error")

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self.status_code, self.responder = 200, None


FAKE = FakeSender()


def get_sender():
    backend = current_app.config.get("WEBHOOK_BACKEND", "fake")
    if backend == "http":
        return HttpSender()
    if backend == "fake":
        return FAKE
    raise RuntimeError(f"WEBHOOK_BACKEND desconocido: {backend!r}")
