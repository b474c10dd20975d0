"""The LLM client (ai.md §1, integrations.md §7): one interface, `complete(messages, tools, max_tokens) ->
LLMResult`; a deterministic, scripted `FakeLLM` (the default outside production, records every prompt) and the
OpenAI-compatible chat-completions client (`DeepSeekClient`: DeepSeek by default; base URL, model and key from the
configuration) with a timeout, retries with backoff on 429/5xx, tool calling and token usage read from the answer.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import requests

from app.core import clock


class LLMError(Exception):
    """The provider did not answer usefully; `str(e)` is a Spanish message for the user."""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class LLMResult:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0


class LLMClient(Protocol):
    def complete(self, messages: list[dict], tools: list[dict] | None = None, max_tokens: int = 2048) -> LLMResult: ...


# --- the real client ------------------------------------------------------------------------------------------


class DeepSeekClient:
    """OpenAI-compatible `POST {base}/chat/completions` with a bearer key. Retries 429 and 5xx (and connection
    errors) with exponential backoff; a timeout or a final failure raises LLMError with a Spanish message."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep

    def complete(self, messages: list[dict], tools: list[dict] | None = None, max_tokens: int = 2048) -> LLMResult:
        body: dict = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        attempt = 0
        while True:
            try:
                resp = requests.post(self.url, json=body, headers=headers, timeout=self.timeout)
            except requests.Timeout as exc:
                raise LLMError("El asistente de IA no respondió a tiempo. Intente de nuevo en unos minutos.") from exc
            except requests.RequestException as exc:
                if attempt < self.max_retries:
                    attempt += 1
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise LLMError("No se pudo conectar con el asistente de IA.") from exc
            if resp.status_code == 429 or resp.status_code >= 500:
                if attempt < self.max_retries:
                    attempt += 1
                    retry_after = resp.headers.get("Retry-After", "")
                    wait = float(retry_after) if retry_after.isdigit() else self.backoff * 2 ** (attempt - 1)
                    self.sleep(min(wait, 10.0))
                    continue
                if resp.status_code == 429:
                    raise LLMError("El proveedor de IA está saturado (demasiadas solicitudes). Intente más tarde.")
                raise LLMError(f"El proveedor de IA respondió con un error ({resp.status_code}).")
            if resp.status_code >= 400:
                raise LLMError(f"El proveedor de IA rechazó la solicitud ({resp.status_code}).")
            try:
                return parse_completion(resp.json())
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise LLMError("El proveedor de IA devolvió una respuesta ilegible.") from exc


def parse_completion(data: dict) -> LLMResult:
    """An OpenAI-compatible chat-completions answer → LLMResult (text, tool calls with parsed JSON arguments,
    usage)."""
    message = data["choices"][0]["message"]
    calls = []
    for call in message.get("tool_calls") or []:
        fn = call["function"]
        raw = fn.get("arguments") or "{}"
        try:
            args = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except ValueError:
            args = {"_invalid": raw}
        calls.append(ToolCall(id=call.get("id") or f"call_{len(calls)}", name=fn["name"], arguments=args))
    usage = data.get("usage") or {}
    return LLMResult(
        text=message.get("content") or "",
        tool_calls=tuple(calls),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
    )


# --- the fake -------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass
class FakeLLM:
    """Deterministic stand-in: answers from a script (`script` = LLMResults or callables(messages, tools) popped in
    order) and, with the script empty, from keyword rules that pick a template (the demo). Every call's messages are
    kept in `prompts` (tests read them)."""

    script: list = field(default_factory=list)
    prompts: list[list[dict]] = field(default_factory=list)
    calls: int = 0
    input_tokens: int = 400
    output_tokens: int = 80

    def complete(self, messages: list[dict], tools: list[dict] | None = None, max_tokens: int = 2048) -> LLMResult:
        self.calls += 1
        self.prompts.append(json.loads(json.dumps(messages, default=str)))
        if self.script:
            item = self.script.pop(0)
            return item(messages, tools) if callable(item) else item
        return self._rules(messages)

    def _usage(self, **kw) -> LLMResult:
        return LLMResult(input_tokens=self.input_tokens, output_tokens=self.output_tokens, **kw)

    def _rules(self, messages: list[dict]) -> LLMResult:
        last = messages[-1]
        if last.get("role") == "tool":
            return self._usage(text=self._explain(last))
        content = last.get("content") or ""
        if content.startswith("COPILOTO:"):
            return self._usage(text=json.dumps(fake_copilot(content[len("COPILOTO:") :]), ensure_ascii=False))
        if content.startswith("OFERTAS:"):
            return self._usage(text=json.dumps(fake_offers(content[len("OFERTAS:") :]), ensure_ascii=False))
        routed = route_question(content)
        if routed is None:
            return self._usage(text="NO_CUBIERTO")
        tool, args = routed
        return self._usage(tool_calls=(ToolCall(id="call_1", name=tool, arguments=args),))

    @staticmethod
    def _explain(tool_message: dict) -> str:
        try:
            data = json.loads(tool_message.get("content") or "{}")
        except ValueError:
            return "No pude leer el resultado."
        if "error" in data:
            return f"No se pudo responder: {data['error']}"
        if "kpi" in data:
            return f"{data.get('descripcion', data['kpi'])}: {data.get('valor')}."
        rows = data.get("filas_total", len(data.get("filas", [])))
        first = data.get("filas", [])
        lead = ""
        if first:
            lead = " Primera fila: " + ", ".join(f"{k} {v}" for k, v in first[0].items()) + "."
        return f"La consulta «{data.get('plantilla')}» devolvió {rows} fila(s).{lead}"


# Keyword routing of the fake (the demo's "model"): question → (tool, arguments). Dates are left to the templates'
# defaults unless the question names a year.
_YEAR = re.compile(r"\b(20\d\d)\b")
_NUMBER = re.compile(r"\btop\s+(\d{1,3})\b|\b(\d{1,3})\s+clientes\b")
_DAYS = re.compile(r"\b(\d{2,4})\s+dias\b")


def route_question(question: str) -> tuple[str, dict] | None:
    q = _plain(question)
    if re.search(r"\b(select|insert|update|delete|drop|alter|create|truncate|union)\b", q):
        return None  # SQL typed in a question is never a question we answer
    year = _YEAR.search(q)
    args: dict = {}
    period: dict = {}
    if "trimestre" in q:
        today = clock.today()
        quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        period = {"desde": quarter_start.isoformat(), "hasta": today.isoformat()}
    if "ventas de hoy" in q or "vendimos hoy" in q:
        return "get_kpi", {"nombre": "ventas_hoy"}
    if "ocupacion de manana" in q or "ocupacion manana" in q:
        return "get_kpi", {"nombre": "ocupacion_manana"}
    if "saldo pendiente" in q and "gift" not in q:
        return "get_kpi", {"nombre": "saldo_pendiente_total"}
    if "pasivo" in q:
        return "get_kpi", {"nombre": "giftcards_pasivo"}
    if "mensajes fallidos" in q:
        return "get_kpi", {"nombre": "mensajes_fallidos_24h"}
    if "top" in q and "cliente" in q or "mejores clientes" in q:
        n = _NUMBER.search(q)
        if n:
            args["limite"] = int(n.group(1) or n.group(2))
        if year:
            args["anio"] = int(year.group(1))
        return "query_template", {"nombre": "top_clientes_por_pago", "parametros": args}
    if "ocupacion" in q:
        if "fin de semana" in q:
            today = clock.today()
            saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
            args.update(desde=saturday.isoformat(), dias=2)
        if "cabana" in q:
            args["tipo"] = "cabana"
        elif "tina" in q:
            args["tipo"] = "tina"
        return "query_template", {"nombre": "ocupacion_servicios", "parametros": args}
    if "mas vendidos" in q or "servicios vendidos" in q:
        return "query_template", {"nombre": "servicios_mas_vendidos", "parametros": period}
    if "por mes" in q or "ventas mensuales" in q:
        if year:
            args["anio"] = int(year.group(1))
        return "query_template", {"nombre": "ventas_por_mes", "parametros": args}
    if "metodo" in q or "medio de pago" in q:
        return "query_template", {"nombre": "ingresos_por_metodo", "parametros": period}
    if "inactivo" in q or "sin visita" in q or "no vienen" in q:
        d = _DAYS.search(q)
        if d:
            args["dias"] = int(d.group(1))
        return "query_template", {"nombre": "clientes_inactivos", "parametros": args}
    if "rfm" in q or "recencia" in q:
        return "query_template", {"nombre": "rfm_clientes", "parametros": args}
    if "afinidad" in q or "juntos" in q or "combin" in q:
        return "query_template", {"nombre": "afinidad_servicios", "parametros": args}
    if "no show" in q or "no-show" in q or "inasistencia" in q:
        return "query_template", {"nombre": "no_shows_por_servicio", "parametros": period}
    if "gift" in q and ("saldo" in q or "vencimiento" in q):
        return "query_template", {"nombre": "giftcards_saldo_pendiente", "parametros": {}}
    return None


def fake_copilot(objective: str) -> dict:
    q = _plain(objective)
    d = _DAYS.search(q)
    if "reactivar" in q or "sin visita" in q or d:
        segmento = {"plantilla": "clientes_inactivos", "parametros": {"dias": int(d.group(1)) if d else 90}}
        incentivo = "Gift Card de $10.000 para tu próxima visita"
    else:
        segmento = {"segmentos": ["vip_high_spend", "regular_high_spend"]}
        incentivo = "15 % de descuento en tinas de lunes a jueves"
    return {
        "segmento": segmento,
        "incentivo": incentivo,
        "asunto": "Te extrañamos en Aremko",
        "cuerpo_email": "Hola {nombre_cliente}, las tinas calientes te esperan junto al río. " + incentivo + ".",
        "texto_sms": "Aremko: te esperamos de vuelta. " + incentivo + ".",
    }


def fake_offers(payload: str) -> dict:
    try:
        offers = json.loads(payload)
    except ValueError:
        offers = []
    out = []
    for offer in offers:
        name = offer.get("servicio", "")
        out.append(
            {
                "sms": f"Aremko: {offer.get('cliente', '')}, te invitamos a probar {name}. Reserva en aremko.cl"[:160],
                "email": f"Hola {offer.get('cliente', '')}: pensamos que {name} te encantará. "
                "Te esperamos en Aremko, entre bosque y río.",
            }
        )
    return {"ofertas": out}


# --- which client ---------------------------------------------------------------------------------------------

_fake_singleton: FakeLLM | None = None


def make_client(config) -> LLMClient:
    """The configured client: `fake` (one shared FakeLLM per process) or the OpenAI-compatible provider."""
    global _fake_singleton
    if config.get("AI_LLM_BACKEND", "fake") == "fake":
        if _fake_singleton is None:
            _fake_singleton = FakeLLM()
        return _fake_singleton
    return DeepSeekClient(
        config["AI_BASE_URL"],
        config.get("DEEPSEEK_API_KEY", ""),
        config["AI_MODEL"],
        timeout=config.get("AI_TIMEOUT_SECONDS", 30.0),
        max_retries=config.get("AI_MAX_RETRIES", 2),
    )
