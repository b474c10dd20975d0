"""Cierre de caja (spec reports.md §2.3): expected amounts, close/reopen rules, views, Excel."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.sales import cash_queries, cash_services
from app.sales.models import CashClose, CashCloseLine
from tests.reports.test_cash_daily import CASH_METHODS, NOW, TODAY, at, build_cash_env

YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def cash_env(db_session, make_client, make_user, freeze_clock):
    return build_cash_env(db_session, make_client, make_user, freeze_clock)


def counted_all(expected, **override) -> dict:
    return {ln.code: override.get(ln.code, ln.expected) for ln in expected}


# --- services ----------------------------------------------------------------------------------------------------


def test_expected_by_method_nets_valid_payments_of_the_local_day(cash_env):
    cash_env.pay(10000, "efectivo")
    cash_env.pay(-1000, "efectivo")
    cash_env.pay(5000, "efectivo", status="anulado")
    cash_env.pay(3000, "giftcard")
    cash_env.pay(700, "tarjeta", when=at(TODAY, 0, 0))  # local midnight belongs to the day
    cash_env.pay(900, "tarjeta", when=at(TODAY + timedelta(days=1), 0, 0))  # next day
    cash_env.pay(800, "tarjeta", when=at(YESTERDAY, 23, 59))
    lines = cash_queries.expected_by_method(TODAY)
    assert [ln.code for ln in lines] == [*CASH_METHODS, "giftcard"]  # every active cash method + gift card moved
    got = {ln.code: ln.expected for ln in lines}
    assert got["efectivo"] == 9000 and got["tarjeta"] == 700 and got["giftcard"] == 3000 and got["webpay"] == 0
    assert all(type(ln.expected) is int for ln in lines)
    assert "giftcard" not in {ln.code for ln in cash_queries.expected_by_method(YESTERDAY)}


def test_close_validations_messages(cash_env):
    gerente = cash_env.make_user("gerente")
    recep = cash_env.make_user("recepcion")
    cash_env.pay(10000, "efectivo")
    expected = cash_queries.expected_by_method(TODAY)
    with pytest.raises(cash_services.CloseFormError) as err:
        cash_services.close_day(TODAY, counted_all(expected, efectivo=9000), "", by=recep)
    assert err.value.errors == {"notas": "Explique la diferencia."} and err.value.status == 422
    bad = counted_all(expected, efectivo=-1, tarjeta="12a")
    bad.pop("webpay")
    with pytest.raises(cash_services.CloseFormError) as err:
        cash_services.close_day(TODAY, bad, "ok", by=recep)
    assert err.value.errors == {
        "contado_efectivo": cash_services.COUNTED_INVALID,
        "contado_tarjeta": cash_services.COUNTED_INVALID,
        "contado_webpay": cash_services.COUNTED_MISSING,
    }
    with pytest.raises(ValidationError, match="Recepción solo puede cerrar la caja del día de hoy."):
        cash_services.close_day(YESTERDAY, counted_all(cash_queries.expected_by_method(YESTERDAY)), by=recep)
    with pytest.raises(ValidationError, match="fecha futura"):
        cash_services.close_day(TODAY + timedelta(days=1), {}, by=gerente)
    close = cash_services.close_day(YESTERDAY, counted_all(cash_queries.expected_by_method(YESTERDAY)), by=gerente)
    assert close.business_date == YESTERDAY and close.version == 1 and close.closed_by_id == gerente.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashClose)) == 1


def test_close_with_difference_and_notes_then_conflict_message(cash_env):
    recep = cash_env.make_user("recepcion", username="maria")
    cash_env.pay(10000, "efectivo")
    expected = cash_queries.expected_by_method(TODAY)
    close = cash_services.close_day(TODAY, counted_all(expected, efectivo=9500), "  faltan 500  ", by=recep)
    lines = {ln.method_code: ln for ln in close.lines}
    assert (lines["efectivo"].expected, lines["efectivo"].counted, lines["efectivo"].difference) == (10000, 9500, -500)
    assert close.notes == "faltan 500" and close.status == "cerrada" and cash_queries.closed_close(TODAY) is close
    with pytest.raises(ConflictError) as err:
        cash_services.close_day(TODAY, counted_all(expected), by=recep)
    assert err.value.message == "La caja del 02/03/2026 ya fue cerrada por maria a las 12:00."


def test_unique_index_turns_a_lost_race_into_a_conflict(cash_env, monkeypatch):
    """The pre-check can miss a close committed by a parallel request; the partial unique index then refuses the
    insert inside a savepoint and the service answers the 409 message, with the session still usable."""
    recep = cash_env.make_user("recepcion", username="pedro")
    first = cash_services.close_day(TODAY, counted_all(cash_queries.expected_by_method(TODAY)), by=recep)
    real = cash_queries.closed_close
    calls = []

    def blind_once(day):
        calls.append(day)
        return None if len(calls) == 1 else real(day)

    monkeypatch.setattr(cash_services, "closed_close", blind_once)
    with pytest.raises(ConflictError, match=r"^La caja del 02/03/2026 ya fue cerrada por pedro a las 12:00\.$"):
        cash_services.close_day(TODAY, counted_all(cash_queries.expected_by_method(TODAY)), by=recep)
    assert len(calls) == 2  # the insert was refused by the index, then the winner was read for the message
    assert db.session.scalars(sa.select(CashClose)).all() == [first]  # only the savepoint was rolled back


def test_reopen_and_next_close_gets_next_version(cash_env):
    gerente = cash_env.make_user("gerente")
    recep = cash_env.make_user("recepcion")
    first = cash_services.close_day(TODAY, counted_all(cash_queries.expected_by_method(TODAY)), by=recep)
    with pytest.raises(ValidationError, match="Solo un gerente o administrador"):
        cash_services.reopen_close(first, "error", by=recep)
    with pytest.raises(ValidationError, match="Indique el motivo de la reapertura."):
        cash_services.reopen_close(first, "   ", by=gerente)
    cash_services.reopen_close(first, "Faltó registrar una transferencia", by=gerente)
    assert (first.status, first.reopened_by_id, first.reopen_reason) == (
        "reabierta",
        gerente.id,
        "Faltó registrar una transferencia",
    )
    assert cash_queries.closed_close(TODAY) is None
    with pytest.raises(ConflictError, match="ya fue reabierto"):
        cash_services.reopen_close(first, "otra vez", by=gerente)
    cash_env.pay(15000, "transferencia")
    second = cash_services.close_day(TODAY, counted_all(cash_queries.expected_by_method(TODAY)), by=recep)
    assert second.version == 2 and second.status == "cerrada"
    assert {ln.method_code: ln.expected for ln in second.lines}["transferencia"] == 15000


# --- views -------------------------------------------------------------------------------------------------------


def form_data(expected, day=TODAY, notas="", **override) -> dict:
    data = {f"contado_{ln.code}": str(override.get(ln.code, ln.expected)) for ln in expected}
    data.update(fecha=day.isoformat(), notas=notas)
    return data


def test_close_flow_through_the_views(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    page = c.get("/ventas/caja-diaria/cierre/")
    assert page.status_code == 200 and 'id="close-form"' in page.text and "Caja del 02/03/2026" in page.text
    assert 'name="contado_efectivo"' in page.text and 'name="csrf_token"' in page.text
    assert 'id="fecha-picker"' not in page.text  # recepcion closes today only: no date picker
    expected = cash_queries.expected_by_method(TODAY)

    missing = c.post("/ventas/caja-diaria/cierre/", data=form_data(expected, efectivo="10.000"))
    assert missing.status_code == 422 and "Explique la diferencia." in missing.text
    assert 'value="10.000"' in missing.text  # what was typed stays
    frag = c.post(
        "/ventas/caja-diaria/cierre/", data=form_data(expected, efectivo="abc"), headers={"HX-Request": "true"}
    )
    assert frag.status_code == 422 and frag.text.lstrip().startswith('<div id="close-form"')
    assert cash_services.COUNTED_INVALID in frag.text and "<html" not in frag.text

    ok = c.post("/ventas/caja-diaria/cierre/", data=form_data(expected, efectivo="$10.000", notas="Vuelto mal dado"))
    assert ok.status_code == 303
    close = db.session.scalars(sa.select(CashClose)).one()
    assert ok.headers["Location"] == f"/ventas/caja-diaria/cierres/{close.id}/"
    assert (close.version, close.notes, close.closed_by_id) == (1, "Vuelto mal dado", c.user.id)
    line = db.session.scalars(sa.select(CashCloseLine).where(CashCloseLine.method_code == "efectivo")).one()
    assert (line.expected, line.counted, line.difference) == (12000, 10000, -2000)

    detail = c.get(ok.headers["Location"])
    assert detail.status_code == 200 and "Vuelto mal dado" in detail.text and "-$2.000" in detail.text
    assert 'id="motivo"' not in detail.text  # recepcion cannot reopen

    again = c.get("/ventas/caja-diaria/cierre/")
    assert "ya fue cerrada por" in again.text and 'name="contado_efectivo"' not in again.text
    conflict = c.post("/ventas/caja-diaria/cierre/", data=form_data(expected), headers={"HX-Request": "true"})
    assert conflict.status_code == 409 and conflict.text.lstrip().startswith('<div id="close-form"')
    assert f"La caja del 02/03/2026 ya fue cerrada por {c.user.username} a las 12:00." in conflict.text


def test_htmx_success_redirects_with_header(cash_env, login):
    c = login("gerente")
    resp = c.post(
        "/ventas/caja-diaria/cierre/",
        data=form_data(cash_queries.expected_by_method(TODAY)),
        headers={"HX-Request": "true"},
    )
    close = db.session.scalars(sa.select(CashClose)).one()
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/ventas/caja-diaria/cierres/{close.id}/"


def test_recepcion_cannot_close_another_date(cash_env, login):
    c = login("recepcion")
    page = c.get(f"/ventas/caja-diaria/cierre/?fecha={YESTERDAY}")
    assert page.status_code == 200 and "Caja del 02/03/2026" in page.text
    assert "Recepción solo puede cerrar la caja del día de hoy." in page.text
    resp = c.post(
        "/ventas/caja-diaria/cierre/", data=form_data(cash_queries.expected_by_method(YESTERDAY), day=YESTERDAY)
    )
    assert resp.status_code == 422 and "Recepción solo puede cerrar la caja del día de hoy." in resp.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashClose)) == 0
    bad = c.post("/ventas/caja-diaria/cierre/", data={"fecha": "ayer"})
    assert bad.status_code == 422 and "Fecha inválida" in bad.text


def test_manager_closes_past_date_not_future(cash_env, login):
    c = login("admin")
    page = c.get(f"/ventas/caja-diaria/cierre/?fecha={YESTERDAY}")
    assert "Caja del 01/03/2026" in page.text and 'id="fecha-picker"' in page.text
    future = c.get(f"/ventas/caja-diaria/cierre/?fecha={TODAY + timedelta(days=1)}")
    assert future.status_code == 200 and "fecha futura" in future.text and 'name="contado_efectivo"' not in future.text
    resp = c.post(
        "/ventas/caja-diaria/cierre/", data=form_data(cash_queries.expected_by_method(YESTERDAY), day=YESTERDAY)
    )
    assert resp.status_code == 303
    assert db.session.scalars(sa.select(CashClose.business_date)).all() == [YESTERDAY]


def test_reopen_by_manager_and_next_close_version(cash_env, login):
    recep = login("recepcion")
    recep.post("/ventas/caja-diaria/cierre/", data=form_data(cash_queries.expected_by_method(TODAY)))
    first = db.session.scalars(sa.select(CashClose)).one()
    assert recep.post(f"/ventas/caja-diaria/cierres/{first.id}/reabrir/", data={"motivo": "x"}).status_code == 403

    g = login("gerente")
    page = g.get(f"/ventas/caja-diaria/cierres/{first.id}/")
    assert 'id="motivo"' in page.text and 'name="csrf_token"' in page.text
    no_reason = g.post(
        f"/ventas/caja-diaria/cierres/{first.id}/reabrir/", data={"motivo": " "}, headers={"HX-Request": "true"}
    )
    assert no_reason.status_code == 422 and no_reason.text.lstrip().startswith('<div id="close-reopen"')
    assert "Indique el motivo de la reapertura." in no_reason.text
    ok = g.post(f"/ventas/caja-diaria/cierres/{first.id}/reabrir/", data={"motivo": "Transferencia tardía"})
    assert ok.status_code == 303 and ok.headers["Location"] == f"/ventas/caja-diaria/cierres/{first.id}/"
    db.session.expire_all()
    assert db.session.get(CashClose, first.id).status == "reabierta"
    twice = g.post(f"/ventas/caja-diaria/cierres/{first.id}/reabrir/", data={"motivo": "otra"})
    assert twice.status_code == 409 and "ya fue reabierto" in twice.text
    assert "Cerrar nuevamente" in g.get(f"/ventas/caja-diaria/cierres/{first.id}/").text

    assert (
        g.post("/ventas/caja-diaria/cierre/", data=form_data(cash_queries.expected_by_method(TODAY))).status_code == 303
    )
    versions = db.session.scalars(sa.select(CashClose).order_by(CashClose.version)).all()
    assert [(v.version, v.status) for v in versions] == [(1, "reabierta"), (2, "cerrada")]
    listing = g.get("/ventas/caja-diaria/cierres/?mes=2026-03")
    assert listing.status_code == 200 and listing.text.count('<tr id="close-') == 2
    assert "Transferencia tardía" in listing.text
    history = g.get(f"/ventas/caja-diaria/cierres/{versions[1].id}/").text
    assert "Versión 1" in history and "Versión 2" in history


def test_closes_list_month_filter(cash_env, login):
    g = login("gerente")
    feb_day = TODAY - timedelta(days=5)
    feb = cash_services.close_day(feb_day, counted_all(cash_queries.expected_by_method(feb_day)), by=g.user)
    db.session.flush()
    html = g.get("/ventas/caja-diaria/cierres/?mes=2026-02").text
    assert f'id="close-{feb.id}"' in html and "25/02/2026" in html
    assert f'id="close-{feb.id}"' not in g.get("/ventas/caja-diaria/cierres/").text  # default: current month
    bad = g.get("/ventas/caja-diaria/cierres/?mes=2026-13", headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "Mes inválido" in bad.text
    assert bad.text.lstrip().startswith('<div id="closes-table"')
    for header in ("Fecha", "Estado", "Cerrado por", "Esperado", "Contado", "Diferencia", "Notas"):
        assert f">{header}</th>" in html


def test_closed_day_lines_are_fixed_and_late_payments_listed_apart(cash_env, login, freeze_clock):
    g = login("gerente")
    cash_env.pay(10000, "efectivo", by=g.user)
    assert (
        g.post("/ventas/caja-diaria/cierre/", data=form_data(cash_queries.expected_by_method(TODAY))).status_code == 303
    )
    close = db.session.scalars(sa.select(CashClose)).one()
    freeze_clock(NOW + timedelta(hours=2))
    late = cash_env.pay(4500, "tarjeta", by=g.user, when=clock.now(), after_close=True)
    page = g.get(f"/ventas/caja-diaria/cierres/{close.id}/").text
    assert re.search(r'id="late-total">\$4\.500<', page) and f'id="payment-{late.id}"' in page
    lines = {ln.method_code: (ln.expected, ln.counted) for ln in close.lines}
    assert lines["efectivo"] == (10000, 10000) and lines["tarjeta"] == (0, 0)  # the close keeps what it counted
    with pytest.raises(ConflictError):
        cash_services.close_day(TODAY, {}, by=g.user)
    assert "posterior al cierre" in g.get("/ventas/caja-diaria/").text

    xlsx = g.get(f"/ventas/caja-diaria/cierres/{close.id}/?export=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="Cierre_Caja_20260302.xlsx"'
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["Cierre", "Pagos"]
    rows = list(wb["Cierre"].iter_rows(values_only=True))
    assert rows[0] == ("Método", "Esperado", "Contado", "Diferencia")
    assert ("Efectivo", 10000, 10000, 0) in rows and ("Total", 10000, 10000, 0) in rows
    assert next(r for r in rows if r[0] == "Pagos posteriores al cierre")[1] == 4500
    pagos = list(wb["Pagos"].iter_rows(values_only=True))
    assert pagos[0][0] == "ID Pago" and sorted(r[5] for r in pagos[1:]) == [4500, 10000]


def test_recepcion_sees_only_todays_close_detail(cash_env, login):
    g = login("gerente")
    old = cash_services.close_day(YESTERDAY, counted_all(cash_queries.expected_by_method(YESTERDAY)), by=g.user)
    db.session.flush()
    r = login("recepcion")
    assert r.get(f"/ventas/caja-diaria/cierres/{old.id}/").status_code == 403
    assert r.get("/ventas/caja-diaria/cierres/").status_code == 403
    assert r.get("/ventas/caja-diaria/cierres/999999/").status_code == 404


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/ventas/caja-diaria/cierre/", {"recepcion", "gerente", "admin"}),
        ("/ventas/caja-diaria/cierres/", {"gerente", "admin"}),
    ],
)
def test_close_pages_access_by_role(cash_env, client, login, path, allowed):
    assert client.get(path).status_code == 302
    for role in ("recepcion", "marketing", "gerente", "admin"):
        assert login(role).get(path).status_code == (200 if role in allowed else 403), role


def test_extreme_inputs_never_500(cash_env, login):
    g = login("gerente")
    for path in (
        "/ventas/caja-diaria/?fecha_fin=9999-12-31",
        "/ventas/caja-diaria/?fecha_inicio=0001-01-01",
        "/ventas/caja-diaria/?page=99999999999999999999",
        "/ventas/caja-diaria/cierres/?mes=9999-12",
        "/ventas/caja-diaria/cierres/?mes=0-1",
        "/ventas/caja-diaria/cierre/?fecha=9999-12-31",
        "/ventas/caja-diaria/cierre/?fecha=0001-01-01",
        "/ventas/caja-diaria/?usuario=²",
        "/ventas/caja-diaria/?usuario=99999999999999999999999",
    ):
        assert g.get(path).status_code == 200, path
    assert "Fecha inválida" in g.get("/ventas/caja-diaria/?fecha_fin=9999-12-31").text
    assert g.post("/ventas/caja-diaria/cierre/", data={"fecha": "9999-12-31"}).status_code == 422
    huge = g.post(
        "/ventas/caja-diaria/cierre/",
        data=form_data(cash_queries.expected_by_method(TODAY), notas="x", efectivo="9" * 40, tarjeta="²"),
    )
    assert huge.status_code == 422 and cash_services.COUNTED_INVALID in huge.text
    large = g.post(
        "/ventas/caja-diaria/cierre/",
        data=form_data(cash_queries.expected_by_method(TODAY), notas="x", efectivo="9" * 15),
    )
    assert large.status_code == 422 and cash_services.COUNTED_TOO_LARGE in large.text


# --- two steps: blind count, then review with live differences (UX review D8) ------------------------------------


def submission_key(html: str) -> str:
    return re.search(r'name="submission_key"[^>]*value="([^"]+)"', html).group(1)


def test_count_step_is_blind_and_asks_only_methods_that_moved(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    cash_env.pay(34500, "tarjeta", by=c.user)
    page = c.get("/ventas/caja-diaria/cierre/")
    assert page.status_code == 200 and 'id="close-conteo"' in page.text
    asked = re.findall(r'name="contado_(\w+)"', page.text)
    assert asked == ["efectivo", "tarjeta"]  # cash always, then the methods with payments today
    assert "$12.000" not in page.text and "$34.500" not in page.text and "Esperado" not in page.text  # blind
    assert 'name="paso" value="revisar"' in page.text and 'name="submission_key"' not in page.text

    quiet = login("gerente")
    yesterday = quiet.get(f"/ventas/caja-diaria/cierre/?fecha={YESTERDAY}")
    assert re.findall(r'name="contado_(\w+)"', yesterday.text) == ["efectivo"]  # nothing moved: cash only


def test_review_step_shows_expected_and_differences_then_closes(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    cash_env.pay(34500, "tarjeta", by=c.user)
    bad = c.post(
        "/ventas/caja-diaria/cierre/",
        data={
            "fecha": TODAY.isoformat(),
            "vista": "conteo",
            "paso": "revisar",
            "contado_efectivo": "10.000",
            "contado_tarjeta": "",
        },
    )
    assert bad.status_code == 422 and 'id="close-conteo"' in bad.text and cash_services.COUNTED_MISSING in bad.text
    assert "$12.000" not in bad.text  # still blind while the count is incomplete

    review = c.post(
        "/ventas/caja-diaria/cierre/",
        data={
            "fecha": TODAY.isoformat(),
            "vista": "conteo",
            "paso": "revisar",
            "contado_efectivo": "10.000",
            "contado_tarjeta": "34500",
        },
    )
    html = review.text
    assert review.status_code == 200 and 'id="close-revision"' in html and 'value="10.000"' in html
    assert re.search(r'id="diff-efectivo"[^>]*>.*-\$2\.000.*faltante', html, re.S)
    assert re.search(r'id="diff-tarjeta"[^>]*>.*Cuadra', html, re.S)
    assert re.search(r'id="total-expected">\$46\.500<', html) and re.search(r'id="total-counted">\$44\.500<', html)
    assert re.search(r'id="total-difference"[^>]*>.*-\$2\.000', html, re.S)
    assert 'name="paso" value="confirmar"' in html and 'hx-disabled-elt="find .close-actions"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashClose)) == 0  # reviewing closes nothing

    data = {
        "fecha": TODAY.isoformat(),
        "vista": "revision",
        "paso": "confirmar",
        "contado_efectivo": "10.000",
        "contado_tarjeta": "34500",
        "notas": "",
        "submission_key": submission_key(html),
    }
    no_notes = c.post("/ventas/caja-diaria/cierre/", data=data)
    assert no_notes.status_code == 422 and "Explique la diferencia." in no_notes.text
    assert 'id="close-revision"' in no_notes.text  # the review stays, with what was typed
    data.update(notas="Vuelto mal dado")  # the refused attempt did not consume the key
    assert c.post("/ventas/caja-diaria/cierre/", data=data).status_code == 303
    close = db.session.scalars(sa.select(CashClose)).one()
    lines = {ln.method_code: (ln.expected, ln.counted, ln.difference) for ln in close.lines}
    assert lines["efectivo"] == (12000, 10000, -2000) and lines["tarjeta"] == (34500, 34500, 0)
    assert lines["transferencia"] == (0, 0, 0)  # not asked: closed at $0


def test_live_differences_fragment_and_no_js_recalculate(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    cash_env.pay(34500, "tarjeta", by=c.user)
    form = {"fecha": TODAY.isoformat(), "contado_efectivo": "$13.000", "contado_tarjeta": "34.5x"}
    frag = c.post("/ventas/caja-diaria/cierre/diferencias/", data=form, headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text and "<form" not in frag.text
    assert re.search(
        r'<span id="diff-efectivo" class="close-difference" hx-swap-oob="true">.*\+\$1\.000.*sobrante', frag.text, re.S
    )
    assert re.search(r'id="diff-tarjeta"[^>]*hx-swap-oob="true">\s*<span class="text-body-secondary">—', frag.text)
    assert re.search(r'id="total-counted" hx-swap-oob="true">—<', frag.text)  # incomplete: no total yet
    form["contado_tarjeta"] = "34.500"
    frag = c.post("/ventas/caja-diaria/cierre/diferencias/", data=form, headers={"HX-Request": "true"})
    assert re.search(r'id="total-counted" hx-swap-oob="true">\$47\.500<', frag.text)
    assert re.search(r'id="total-difference"[^>]*>.*\+\$1\.000', frag.text, re.S)

    page = c.post("/ventas/caja-diaria/cierre/diferencias/", data=form)  # no htmx: the review page
    assert page.status_code == 200 and "<html" in page.text and 'id="close-revision"' in page.text
    recalc = c.post("/ventas/caja-diaria/cierre/", data={**form, "vista": "revision", "paso": "revisar"})
    assert recalc.status_code == 200 and re.search(r'id="diff-efectivo"[^>]*>.*\+\$1\.000', recalc.text, re.S)
    assert (
        c.post(
            "/ventas/caja-diaria/cierre/diferencias/",
            data={**form, "fecha": YESTERDAY.isoformat()},
            headers={"HX-Request": "true"},
        ).status_code
        == 403
    )  # recepcion: today only
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashClose)) == 0
    g = login("gerente")
    for fecha in ("9999-12-31", "0001-01-01", "ayer", ""):
        odd = g.post(
            "/ventas/caja-diaria/cierre/diferencias/", data={**form, "fecha": fecha}, headers={"HX-Request": "true"}
        )
        assert odd.status_code == 200, fecha  # never a 500


def test_same_close_form_sent_twice_closes_once(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    review = c.post(
        "/ventas/caja-diaria/cierre/", data={"fecha": TODAY.isoformat(), "paso": "revisar", "contado_efectivo": "12000"}
    )
    data = {
        "fecha": TODAY.isoformat(),
        "vista": "revision",
        "paso": "confirmar",
        "contado_efectivo": "12000",
        "submission_key": submission_key(review.text),
    }
    first = c.post("/ventas/caja-diaria/cierre/", data=data, headers={"HX-Request": "true"})
    assert first.status_code == 204
    second = c.post("/ventas/caja-diaria/cierre/", data=data, headers={"HX-Request": "true"})
    assert second.status_code == 409 and "ya fue enviado" in second.text
    assert second.text.lstrip().startswith('<div id="close-form"') and "Ver el cierre" in second.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashClose)) == 1


# --- the forms (Flask-WTF): per-field errors, CSRF and the one-time key from the form ------------------------------


def test_count_errors_are_on_their_inputs_with_aria(cash_env, login):
    c = login("recepcion")
    cash_env.pay(12000, "efectivo", by=c.user)
    cash_env.pay(34500, "tarjeta", by=c.user)
    resp = c.post(
        "/ventas/caja-diaria/cierre/",
        data={"fecha": TODAY.isoformat(), "paso": "revisar", "contado_efectivo": "-1", "contado_tarjeta": "12a"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422 and "Revise los montos marcados." in resp.text
    for code in ("efectivo", "tarjeta"):
        field = re.search(rf'<input[^>]*name="contado_{code}"[^>]*>', resp.text).group(0)
        assert 'aria-invalid="true"' in field and f'aria-describedby="contado_{code}-error"' in field
        assert "is-invalid" in field
        assert re.search(rf'id="contado_{code}-error">{cash_services.COUNTED_INVALID}<', resp.text)
    assert 'value="-1"' in resp.text and 'value="12a"' in resp.text  # what was typed stays
    assert 'name="csrf_token"' in resp.text and 'name="submission_key"' not in resp.text  # count step: no key


def test_review_renders_a_fresh_key_then_keeps_the_posted_one(cash_env, login):
    c = login("recepcion")
    review = c.post(
        "/ventas/caja-diaria/cierre/", data={"fecha": TODAY.isoformat(), "paso": "revisar", "contado_efectivo": "5"}
    )
    key = submission_key(review.text)
    assert review.status_code == 200 and len(key) >= 16
    refused = c.post(
        "/ventas/caja-diaria/cierre/",
        data={"fecha": TODAY.isoformat(), "paso": "confirmar", "contado_efectivo": "5", "submission_key": key},
    )
    assert refused.status_code == 422 and "Explique la diferencia." in refused.text
    assert submission_key(refused.text) == key  # not consumed: the corrected form sends the same key
    notas = re.search(r'<textarea[^>]*name="notas"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in notas and 'aria-describedby="notas-error"' in notas


def test_reopen_reason_too_long_is_a_field_error(cash_env, login):
    g = login("gerente")
    close = cash_services.close_day(TODAY, counted_all(cash_queries.expected_by_method(TODAY)), by=g.user)
    db.session.flush()
    resp = g.post(
        f"/ventas/caja-diaria/cierres/{close.id}/reabrir/", data={"motivo": "x" * 256}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 422 and resp.text.lstrip().startswith('<div id="close-reopen"')
    assert re.search(r'id="motivo-error">El motivo no puede superar los 255 caracteres\.<', resp.text)
    textarea = re.search(r'<textarea[^>]*name="motivo"[^>]*>', resp.text).group(0)
    assert 'aria-invalid="true"' in textarea and 'maxlength="255"' in textarea
    assert " required" not in textarea  # the server's Spanish message, not the browser's
    db.session.expire_all()
    assert db.session.get(CashClose, close.id).status == "cerrada"
