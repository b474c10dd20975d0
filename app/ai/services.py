"""The AI module's actions (ai.md §2): a business question answered through at most three tool calls over the
approved templates and KPIs, with caps checked before every model call and an AIQueryLog for every question;
"Repetir" without the model. Services flush, never commit."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app

from app.ai import policy, queries
from app.ai.llm import LLMClient, LLMError, LLMResult, make_client
from app.ai.models import AIQueryLog
from app.ai.readonly import QueryTimeout, run_readonly
from app.ai.registry import (
    TemplateError,
    get_kpi,
    get_template,
    jsonable_params,
    tool_definitions,
    validate_params,
)
from app.core import clock
from app.core.money import format_clp
from app.extensions import db

MAX_TOOL_CALLS = 3
MODEL_ROWS = 50  # rows the model may see
SHOWN_ROWS = 50  # rows the page shows (the CSV has them all)

SYSTEM_PROMPT = (
    "Eres el asistente de datos de Aremko (spa de tinas calientes, masajes y cabañas en Chile). Respondes preguntas "
    "de negocio SOLO con las herramientas: query_template (consultas aprobadas) y get_kpi (indicadores). Nunca "
    "escribas SQL. Usa como máximo 3 llamadas. Luego responde en español de Chile, en 1 a 3 frases, sin inventar "
    "cifras. Los clientes aparecen con seudónimos (C1, C2…): úsalos tal cual. Si ninguna herramienta sirve, "
    "responde exactamente NO_CUBIERTO. Hoy es {hoy}."
)


def get_llm() -> LLMClient:
    """The configured client; tests put a FakeLLM in `app.extensions["ai_llm"]`."""
    return current_app.extensions.get("ai_llm") or make_client(current_app.config)


class CapReached(Exception):
    pass


@dataclass
class Answer:
    log: AIQueryLog
    status: str  # ok | uncovered | blocked | error
    message: str = ""
    template: str | None = None
    params: dict = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    kpi: dict | None = None
    timeout: str | None = None  # a template ran past AI_QUERY_TIMEOUT_SECONDS (its Spanish message)

    @property
    def shown_rows(self) -> list[tuple]:
        return self.rows[:SHOWN_ROWS]

    def chart(self) -> dict | None:
        return chart_config(self.template, self.columns, self.rows)


# --- caps and cost ------------------------------------------------------------------------------------------


def check_caps(user_id: int | None, pending_milli: int = 0) -> None:
    """Raise CapReached when today's global or per-user spend (flushed logs, plus `pending_milli`) reached a cap."""
    cfg = current_app.config
    global_cap = cfg["AI_DAILY_COST_LIMIT_CLP"] * 1000
    user_cap = cfg["AI_USER_DAILY_COST_LIMIT_CLP"] * 1000
    if queries.spent_today_milli() + pending_milli >= global_cap:
        raise CapReached()
    if user_id is not None and queries.spent_today_milli(user_id) + pending_milli >= user_cap:
        raise CapReached()


def call_model(log: AIQueryLog, messages: list[dict], tools: list[dict] | None) -> LLMResult:
    """One model call after the cap check; tokens and cost added to the log. Raises CapReached / LLMError."""
    db.session.flush()  # the question's own cost so far is in today's sum
    check_caps(log.user_id)
    cfg = current_app.config
    result = get_llm().complete(messages, tools, cfg["AI_MAX_TOKENS"])
    log.input_tokens = (log.input_tokens or 0) + result.input_tokens
    log.output_tokens = (log.output_tokens or 0) + result.output_tokens
    log.cost_milli_clp = (log.cost_milli_clp or 0) + policy.cost_milli_clp(
        result.input_tokens,
        result.output_tokens,
        cfg["AI_PRICE_INPUT_CLP_PER_1K_TOKENS"],
        cfg["AI_PRICE_OUTPUT_CLP_PER_1K_TOKENS"],
    )
    return result


def new_log(user, kind: str, question: str) -> AIQueryLog:
    log = AIQueryLog(
        user_id=getattr(user, "id", None),
        kind=kind,
        question=(question or "")[:2000],
        status="ok",
        rows=0,
        input_tokens=0,
        output_tokens=0,
        cost_milli_clp=0,
        duration_ms=0,
    )
    db.session.add(log)
    return log


# --- privacy ------------------------------------------------------------------------------------------------


class Pseudonyms:
    """Client names → C1, C2… for prompts; the mapping stays here and restores the names in the UI."""

    def __init__(self):
        self.by_name: dict[str, str] = {}

    def alias(self, name: str) -> str:
        if name not in self.by_name:
            self.by_name[name] = f"C{len(self.by_name) + 1}"
        return self.by_name[name]

    def restore(self, text: str) -> str:
        names = {v: k for k, v in self.by_name.items()}
        return re.sub(r"\bC(\d+)\b", lambda m: names.get(m.group(0), m.group(0)), text)


def plain_number(value):
    """A database number as Python shows it: an integral Decimal (PostgreSQL's SUM/ROUND of integer columns, money
    in CLP) becomes an int, a non-integral one a float; anything else is returned unchanged."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def plain_row(row) -> tuple:
    return tuple(plain_number(v) for v in row)


def _plain_value(value):
    if isinstance(value, date):
        return value.isoformat()
    return plain_number(value)


def model_view(template, columns: list[str], rows: list[tuple], aliases: Pseudonyms) -> list[dict]:
    """≤ 50 rows for the model: hidden columns dropped (ids), client names pseudonymised."""
    out = []
    for row in rows[:MODEL_ROWS]:
        item = {}
        for col, value in zip(columns, row, strict=True):
            if col in template.hidden_columns:
                continue
            if col in template.pseudonym_columns and value is not None:
                value = aliases.alias(str(value))
            item[col] = _plain_value(value)
        out.append(item)
    return out


# --- tools --------------------------------------------------------------------------------------------------


def run_template(name: str, raw_params) -> tuple[object, dict, list[str], list[tuple]]:
    """Validate, then run one registry template read-only. Raises TemplateError before any query."""
    template = get_template(name)
    params = validate_params(template, raw_params)
    columns, rows = run_readonly(template.build(params))
    return template, params, columns, [plain_row(r) for r in rows]


def run_kpi(name: str) -> dict:
    kpi = get_kpi(name)
    _, rows = run_readonly(kpi.build(), limit=1)
    value = int(rows[0][0] or 0) if rows else 0
    return {
        "kpi": kpi.name,
        "descripcion": kpi.description,
        "valor": value,
        "texto": format_clp(value) if kpi.money else str(value),
    }


def _tool_result(answer: Answer, call, aliases: Pseudonyms) -> dict:
    args = call.arguments if isinstance(call.arguments, dict) else {}
    try:
        if call.name == "query_template":
            template, params, columns, rows = run_template(args.get("nombre"), args.get("parametros"))
            answer.template, answer.params = template.name, jsonable_params(params)
            answer.columns, answer.rows, answer.kpi = columns, rows, None
            return {
                "plantilla": template.name,
                "parametros": answer.params,
                "filas_total": len(rows),
                "filas": model_view(template, columns, rows, aliases),
            }
        if call.name == "get_kpi":
            data = run_kpi(args.get("nombre"))
            answer.template, answer.params, answer.kpi = "kpi:" + data["kpi"], {}, data
            answer.columns, answer.rows = ["indicador", "valor"], [(data["descripcion"], data["valor"])]
            return data
        return {"error": "Herramienta desconocida."}
    except TemplateError as exc:
        return {"error": str(exc)}
    except QueryTimeout as exc:
        answer.timeout = str(exc)
        return {"error": str(exc)}


# --- the chat -----------------------------------------------------------------------------------------------


def ask(question: str, *, user) -> Answer:
    """Answer a business question (ai.md §2 "Business chat"); writes one AIQueryLog; flushes."""
    started = time.monotonic()
    question = (question or "").strip()
    log = new_log(user, "chat", question)
    answer = Answer(log=log, status="ok")
    aliases = Pseudonyms()
    messages: list[dict] = [
        {"role": "system", "content": SYSTEM_PROMPT.format(hoy=clock.today().isoformat())},
        {"role": "user", "content": policy.scrub(question)},
    ]
    tools = tool_definitions()
    used = 0
    text = ""
    try:
        for _ in range(MAX_TOOL_CALLS + 1):
            result = call_model(log, messages, tools if used < MAX_TOOL_CALLS else None)
            if not result.tool_calls:
                text = result.text
                break
            messages.append(
                {
                    "role": "assistant",
                    "content": result.text or "",
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
                        }
                        for c in result.tool_calls
                    ],
                }
            )
            for call in result.tool_calls:
                if used >= MAX_TOOL_CALLS:
                    content = {"error": "Se alcanzó el máximo de 3 consultas por pregunta."}
                else:
                    used += 1
                    content = _tool_result(answer, call, aliases)
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(content, ensure_ascii=False, default=str),
                    }
                )
    except CapReached:
        if log.input_tokens == 0:  # no call made: blocked
            answer.status, answer.message = "blocked", policy.LIMIT_MESSAGE
            log.status, log.error = "blocked", policy.LIMIT_MESSAGE
    except LLMError as exc:
        answer.status, answer.message = "error", str(exc)
        log.status, log.error = "error", str(exc)
    if answer.status == "ok":
        if answer.template is None and answer.timeout:
            answer.status, answer.message = "error", answer.timeout
            log.status, log.error = "error", answer.timeout
        elif answer.template is None:
            answer.status, answer.message = "uncovered", policy.UNCOVERED_MESSAGE
        else:
            answer.message = aliases.restore(text.strip() if text and text.strip() != "NO_CUBIERTO" else "")
    log.template = answer.template
    log.params = answer.params or None
    log.rows = len(answer.rows)
    log.answer = answer.message[:4000] if answer.message else None
    log.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.flush()
    return answer


REPEATED = "Repetida sin el modelo con los mismos parámetros."


def repeat(original: AIQueryLog, *, user) -> Answer:
    """'Repetir' (ai.md §2 History): the stored template/KPI and parameters run again without the model, audited
    like any question — a new AIQueryLog (kind chat, same question, template, params, rows, duration, no tokens,
    cost 0; status error with the message when the query fails or times out). Flushes."""
    started = time.monotonic()
    log = new_log(user, "chat", original.question)
    try:
        answer = replay(original)
    except (TemplateError, QueryTimeout) as exc:
        answer = Answer(log=original, status="error", message=str(exc))
        log.status, log.error = "error", str(exc)
    answer.log = log
    log.template = original.template
    log.params = answer.params or original.params or None
    log.rows = len(answer.rows)
    log.answer = answer.message[:4000] if answer.message else None
    log.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.flush()
    return answer


def replay(log: AIQueryLog) -> Answer:
    """The stored template/KPI and parameters of `log` again, without the model and without a new log (the CSV).
    Raises TemplateError / QueryTimeout."""
    answer = Answer(log=log, status="ok", message=REPEATED)
    if not log.template:
        answer.status, answer.message = "uncovered", policy.UNCOVERED_MESSAGE
        return answer
    if log.template.startswith("kpi:"):
        data = run_kpi(log.template[4:])
        answer.template, answer.kpi = log.template, data
        answer.columns, answer.rows = ["indicador", "valor"], [(data["descripcion"], data["valor"])]
        return answer
    template, params, columns, rows = run_template(log.template, log.params or {})
    answer.template, answer.params, answer.columns, answer.rows = template.name, jsonable_params(params), columns, rows
    return answer


# --- charts -------------------------------------------------------------------------------------------------

MONTHS = ("", "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def chart_config(template_name: str | None, columns: list[str], rows: list[tuple]) -> dict | None:
    """A Chart.js config where the result is a series over time or categories (as the reports draw theirs)."""
    if not template_name or template_name.startswith("kpi:") or not rows:
        return None
    try:
        template = get_template(template_name)
    except TemplateError:
        return None
    if not template.chart or template.label_column not in columns or template.value_column not in columns:
        return None
    li, vi = columns.index(template.label_column), columns.index(template.value_column)
    agg: dict = {}
    for row in rows[:SHOWN_ROWS]:
        label = row[li]
        if template.label_column == "mes" and isinstance(label, int) and 0 < label < 13:
            label = MONTHS[label] + (f" {row[0]}" if template.name == "giftcards_saldo_pendiente" else "")
        agg[str(label)] = agg.get(str(label), 0) + (plain_number(row[vi]) or 0)  # ints stay exact (CLP)
    money = template.value_column in ("monto_pagado", "ingresos", "total", "monto", "saldo")
    scales = {"y": {"beginAtZero": True}}
    if money:
        scales["y"]["format"] = "clp"
    return {
        "type": template.chart,
        "data": {
            "labels": list(agg),
            "datasets": [{"label": template.value_column.replace("_", " "), "data": list(agg.values())}],
        },
        "options": {"responsive": True, "maintainAspectRatio": False, "scales": scales},
    }
