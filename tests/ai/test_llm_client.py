"""The OpenAI-compatible client against a local stub of the chat-completions protocol (never the internet): a tool
call round trip, usage, 429 then success, 5xx exhausted, a slow answer → timeout → a clear Spanish error."""

from __future__ import annotations

import sqlalchemy as sa

from app.ai.llm import DeepSeekClient, LLMError
from app.ai.models import AIQueryLog
from app.extensions import db
from tests.ai.stub_server import StubServer, completion, tool_call


def _client(url: str, **kw) -> DeepSeekClient:
    waits = []
    client = DeepSeekClient(url, "sk-test", "deepseek-chat", sleep=waits.append, **kw)
    client.waits = waits
    return client


def test_tool_call_round_trip_and_usage():
    with StubServer() as stub:
        stub.answers = [
            (200, completion(tool_calls=[tool_call("get_kpi", {"nombre": "ventas_hoy"})]), 0),
            (200, completion("Hoy se vendió $0.", prompt_tokens=200, completion_tokens=12), 0),
        ]
        client = _client(stub.url)
        tools = [{"type": "function", "function": {"name": "get_kpi", "parameters": {"type": "object"}}}]
        first = client.complete([{"role": "user", "content": "ventas de hoy"}], tools, 512)
        assert first.tool_calls[0].name == "get_kpi" and first.tool_calls[0].arguments == {"nombre": "ventas_hoy"}
        assert (first.input_tokens, first.output_tokens) == (120, 30)
        second = client.complete(
            [
                {"role": "user", "content": "ventas de hoy"},
                {"role": "assistant", "content": "", "tool_calls": [tool_call("get_kpi", {"nombre": "ventas_hoy"})]},
                {"role": "tool", "tool_call_id": "call_abc", "content": '{"valor": 0}'},
            ],
            tools,
        )
        assert second.text == "Hoy se vendió $0." and second.tool_calls == ()
        assert (second.input_tokens, second.output_tokens) == (200, 12)
    req = stub.requests[0]
    assert req["path"] == "/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    assert req["json"]["model"] == "deepseek-chat" and req["json"]["max_tokens"] == 512
    assert req["json"]["tools"] == tools
    assert stub.requests[1]["json"]["messages"][2]["role"] == "tool"


def test_429_then_success_retries_with_backoff():
    with StubServer() as stub:
        stub.answers = [(429, {"error": "rate"}, 0), (503, {"error": "busy"}, 0), (200, completion("listo"), 0)]
        client = _client(stub.url, max_retries=2, backoff=0.5)
        result = client.complete([{"role": "user", "content": "hola"}])
    assert result.text == "listo"
    assert len(stub.requests) == 3
    assert client.waits == [0.5, 1.0]


def test_429_exhausted_is_a_spanish_error():
    with StubServer() as stub:
        stub.answers = [(429, {}, 0)] * 3
        client = _client(stub.url, max_retries=2)
        try:
            client.complete([{"role": "user", "content": "hola"}])
        except LLMError as exc:
            assert "saturado" in str(exc)
        else:
            raise AssertionError("no error")
    assert len(stub.requests) == 3


def test_slow_answer_times_out_with_a_clear_spanish_error():
    with StubServer() as stub:
        stub.answers = [(200, completion("tarde"), 1.5)]
        client = _client(stub.url, timeout=0.3)
        try:
            client.complete([{"role": "user", "content": "hola"}])
        except LLMError as exc:
            assert str(exc) == "El asistente de IA no respondió a tiempo. Intente de nuevo en unos minutos."
        else:
            raise AssertionError("no timeout")


def test_garbage_answer_is_an_error_not_a_crash():
    with StubServer() as stub:
        stub.answers = [(200, {"nada": True}, 0)]
        try:
            _client(stub.url).complete([{"role": "user", "content": "hola"}])
        except LLMError as exc:
            assert "ilegible" in str(exc)
        else:
            raise AssertionError("no error")


def test_chat_page_with_the_real_client_round_trip_and_timeout(ai_app, ai_login, sales_data):
    with StubServer() as stub:
        ai_app.config.update(AI_LLM_BACKEND="deepseek", AI_BASE_URL=stub.url, DEEPSEEK_API_KEY="sk-x")
        stub.answers = [
            (
                200,
                completion(
                    tool_calls=[tool_call("query_template", {"nombre": "ventas_por_mes", "parametros": {"anio": 2025}})]
                ),
                0,
            ),
            (200, completion("En 2025 hubo 5 meses con ventas."), 0),
        ]
        c = ai_login("gerente")
        html = c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes 2025"}).get_data(as_text=True)
        assert "En 2025 hubo 5 meses con ventas." in html and "ventas_por_mes" in html
        log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
        assert (log.input_tokens, log.output_tokens) == (240, 60)
        # 240 × 0.3 + 60 × 1.1 = 72 + 66 = 138 pesos/1000 tokens … in thousandths: 138
        assert log.cost_milli_clp == 138
        tool_msg = stub.requests[1]["json"]["messages"][-1]
        assert tool_msg["role"] == "tool" and '"filas_total": 5' in tool_msg["content"]

        ai_app.config["AI_TIMEOUT_SECONDS"] = 0.3
        stub.answers = [(200, completion("tarde"), 1.5)]
        resp = c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes 2025"})
        assert resp.status_code == 200
        assert "no respondió a tiempo" in resp.get_data(as_text=True)
        log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
        assert log.status == "error" and "no respondió a tiempo" in log.error
