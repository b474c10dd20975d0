"""Flow.cl adapter (spec integrations.md §1): one signature function, a real client and the fake's shapes."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

SANDBOX = "https://sandbox.flow.cl/api"
PRODUCTION = "https://www.flow.cl/api"
STATUS_PENDING, STATUS_PAID, STATUS_REJECTED, STATUS_CANCELLED = 1, 2, 3, 4


class FlowError(Exception):
    """Flow answered 400/401 with a JSON code and message."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FlowUnavailable(Exception):
    """Timeout, connection failure or 5xx."""


def sign(params: dict, secret: str) -> str:
    """HMAC-SHA256 over every parameter except `s`, sorted by name, as name+value with no separators."""
    payload = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "s")
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def verify(params: dict, secret: str) -> bool:
    return hmac.compare_digest(str(params.get("s", "")), sign(params, secret))


@dataclass
class FlowSettings:
    api_key: str
    secret_key: str
    create_url: str
    status_url: str
    timeout_s: float = 10.0


class FlowClient:
    """HTTP client for payment/create and payment/getStatus (requests, explicit timeouts, no secrets logged)."""

    def __init__(self, settings: FlowSettings, http=None):
        import requests

        self.settings = settings
        self.http = http or requests.Session()

    def _signed(self, params: dict) -> dict:
        params = {**params, "apiKey": self.settings.api_key}
        params["s"] = sign(params, self.settings.secret_key)
        return params

    def _answer(self, response) -> dict:
        if response.status_code >= 500:
            raise FlowUnavailable(f"Flow HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise FlowUnavailable("Flow answered non-JSON") from None
        if response.status_code >= 400:
            raise FlowError(body.get("code"), body.get("message"))
        return body

    def create_payment(
        self,
        *,
        order_ref: str,
        subject: str,
        amount: int,
        email: str | None,
        url_confirmation: str,
        url_return: str,
        timeout_s: int | None = None,
    ) -> dict:
        import requests

        params = {
            "commerceOrder": order_ref,
            "subject": subject,
            "currency": "CLP",
            "amount": amount,
            "email": email or "",
            "urlConfirmation": url_confirmation,
            "urlReturn": url_return,
        }
        if timeout_s:
            params["timeout"] = timeout_s
        try:
            response = self.http.post(
                self.settings.create_url, data=self._signed(params), timeout=self.settings.timeout_s
            )
        except requests.RequestException as exc:
            raise FlowUnavailable(type(exc).__name__) from None
        body = self._answer(response)
        return {"url": body["url"], "token": body["token"], "flow_order": str(body.get("flowOrder", ""))}

    def get_status(self, token: str) -> dict:
        import requests

        try:
            response = self.http.get(
                self.settings.status_url, params=self._signed({"token": token}), timeout=self.settings.timeout_s
            )
        except requests.RequestException as exc:
            raise FlowUnavailable(type(exc).__name__) from None
        body = self._answer(response)
        return {
            "status": int(body.get("status", 0)),
            "commerce_order": body.get("commerceOrder"),
            "amount": int(str(body.get("amount", 0)).split(".")[0]),
            "flow_order": str(body.get("flowOrder", "")),
            "payer": body.get("payer"),
            "payment_date": (body.get("paymentData") or {}).get("date"),
            "raw": body,
        }
