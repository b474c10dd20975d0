"""Segmentation board (crm.md §6.4): counts equal segment_counts, lists, select-for-clients, export."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from app.crm.models import CampaignTarget
from app.sales.client_queries import segment_counts

BOARD = "/ventas/reportes/segmentacion-clientes/"
HX = {"HX-Request": "true"}


def _segment_data(make_client, add_visits):
    vip = [
        add_visits(make_client(name=f"Vip Cliente {i}", marketing_consent=True), visits=6, spend=200000)
        for i in range(3)
    ]
    regular = add_visits(make_client(name="Regular Medio"), visits=2, spend=130000)
    zero = make_client(name="Sin Gasto")
    return vip, regular, zero


def test_board_cards_equal_segment_counts(login, make_client, add_visits, db_session):
    _segment_data(make_client, add_visits)
    counts = segment_counts()
    resp = login("marketing").get(BOARD)
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    html = resp.text
    for key, n in counts.items():
        card = html.split(f'id="card-{key}"')[1].split("</div>")[0:3]
        assert f'<span class="fs-5 fw-semibold segment-count">{n}</span>' in "".join(card), key
    assert f"Total de clientes: <strong>{sum(counts.values())}</strong>" in html
    assert 'id="segment-matrix"' in html and 'id="segment-list"' in html
    assert "Visitas: nuevos &lt; 2, regulares &lt; 6, VIP ≥ 6." in html
    assert counts["vip_high_spend"] >= 3 and counts["regular_medium_spend"] >= 1


def test_segment_list_full_page_and_fragment(login, make_client, add_visits):
    vip, regular, _ = _segment_data(make_client, add_visits)
    c = login("gerente")
    url = BOARD + "vip_high_spend/"
    full = c.get(url)
    assert full.status_code == 200 and 'id="segment-matrix"' in full.text and 'id="segment-list"' in full.text
    fragment = c.get(url, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.text.lstrip().startswith('<div id="segment-list"') and "segment-matrix" not in fragment.text
    for client in vip:
        assert f'id="client-{client.id}"' in fragment.text
    assert f'id="client-{regular.id}"' not in fragment.text
    assert "Seleccionar todo el segmento (" in fragment.text and "Seleccionar página" in fragment.text
    assert "SMS ✓" in fragment.text  # marketing consent icons
    search = c.get(url + "?q=cliente 1", headers=HX)
    assert f'id="client-{vip[1].id}"' in search.text and f'id="client-{vip[0].id}"' not in search.text


def test_unknown_segment_is_404(login):
    assert login("marketing").get(BOARD + "no_such_segment/").status_code == 404


def test_segment_list_pagination(login, make_client, add_visits):
    for i in range(53):
        make_client(name=f"Cero {i:02d}")
    c = login("marketing")
    total = segment_counts()["zero_spend"]
    first = c.get(BOARD + "zero_spend/", headers=HX).text
    assert first.count('name="selected_clients"') == 50
    assert f"Página 1 de {(total + 49) // 50}" in first
    last_page = (total + 49) // 50
    last = c.get(BOARD + f"zero_spend/?page={last_page}", headers=HX).text
    assert last.count('name="selected_clients"') == total - 50 * (last_page - 1)
    beyond = c.get(BOARD + "zero_spend/?page=999", headers=HX).text  # past the end: the last page
    assert beyond.count('name="selected_clients"') == total - 50 * (last_page - 1)
    assert f"Página {last_page} de {last_page}" in beyond
    full = c.get(BOARD + f"zero_spend/?page={last_page}").text  # full page: total from the board's counts
    assert f"Página {last_page} de {last_page}" in full and f"Seleccionar todo el segmento ({total})" in full


def test_select_for_page_clients_skips_existing(login, make_client, add_visits, make_campaign, db_session):
    vip, regular, _ = _segment_data(make_client, add_visits)
    campaign = make_campaign(name="Invierno VIP", audience_source="lista")
    c = login("marketing")
    resp = c.post(
        "/ventas/admin/campaign/select-for-clients/",
        data={"selected_clients": f"{vip[0].id},{vip[1].id}", "campaign": campaign.id},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/ventas/campanas/{campaign.id}/")
    resp = c.post(
        "/ventas/admin/campaign/select-for-clients/",
        data={"selected_clients": [str(vip[1].id), str(regular.id)], "campaign": campaign.id},
    )
    with c.session_transaction() as sess:
        flashes = [m for _, m in sess.get("_flashes", [])]
    assert "1 clientes agregados a la campaña «Invierno VIP» (1 ya estaban)." in flashes
    ids = set(db_session.scalars(sa.select(CampaignTarget.client_id).where(CampaignTarget.campaign_id == campaign.id)))
    assert ids == {vip[0].id, vip[1].id, regular.id}


def test_select_whole_segment(login, make_client, add_visits, make_campaign, db_session):
    vip, _, _ = _segment_data(make_client, add_visits)
    campaign = make_campaign(audience_source="lista")
    c = login("admin")
    c.post(
        "/ventas/admin/campaign/select-for-clients/", data={"selected_clients": str(vip[0].id), "campaign": campaign.id}
    )
    n = segment_counts()["vip_high_spend"]
    resp = c.post(
        "/ventas/admin/campaign/select-for-clients/", data={"segmento": "vip_high_spend", "campaign": campaign.id}
    )
    assert resp.status_code == 303
    with c.session_transaction() as sess:
        flashes = [m for _, m in sess.get("_flashes", [])]
    assert f"{n - 1} clientes agregados a la campaña «{campaign.name}» (1 ya estaban)." in flashes
    sources = dict(
        db_session.execute(
            sa.select(CampaignTarget.client_id, CampaignTarget.source).where(CampaignTarget.campaign_id == campaign.id)
        ).all()
    )
    assert sources[vip[0].id] == "manual" and sources[vip[1].id] == "segmento" and len(sources) == n


def test_select_for_clients_errors_and_get(login, make_client, make_campaign, db_session):
    c = login("marketing")
    assert c.get("/ventas/admin/campaign/select-for-clients/").headers["Location"].endswith(BOARD)
    closed = make_campaign(status="Completed")
    resp = c.post(
        "/ventas/admin/campaign/select-for-clients/",
        data={"selected_clients": str(make_client().id), "campaign": closed.id, "origen": BOARD},
    )
    assert resp.status_code == 303 and resp.headers["Location"] == BOARD
    open_campaign = make_campaign()
    resp = c.post("/ventas/admin/campaign/select-for-clients/", data={"campaign": open_campaign.id})
    with c.session_transaction() as sess:
        assert ("error", "No se seleccionaron clientes.") in sess.get("_flashes", [])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CampaignTarget)) == 0
    assert (
        login("recepcion")
        .post("/ventas/admin/campaign/select-for-clients/", data={"campaign": open_campaign.id})
        .status_code
        == 403
    )


def test_segment_export_reopens(login, make_client, add_visits):
    vip, _, _ = _segment_data(make_client, add_visits)
    resp = login("marketing").get(BOARD + "vip_high_spend/?export=excel")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="Segmento_vip_high_spend_20260302_' in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["Clientes"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (
        "ID",
        "Nombre",
        "Teléfono",
        "Correo electrónico",
        "Visitas",
        "Gasto Total",
        "Última Visita",
        "Segmento",
        "Acepta Promociones",
    )
    by_id = {r[0]: r for r in rows[1:]}
    row = by_id[vip[0].id]
    assert row[4] == 6 and row[5] == 200000 and row[7] == "VIP (>5 Visitas, Alto Gasto)" and row[8] == "Sí"
    assert row[6].date().isoformat() == "2026-03-01"
    assert len(by_id) == segment_counts()["vip_high_spend"]


def test_segment_list_statements_constant(login, make_client, add_visits, count_statements, db_session):
    for i in range(3):
        make_client(name=f"Pocos {i}")
    db_session.commit()
    c = login("marketing")
    url = BOARD + "zero_spend/"
    c.get(url)
    few_page = count_statements(lambda: c.get(url))
    few_fragment = count_statements(lambda: c.get(url, headers=HX))
    for i in range(40):
        make_client(name=f"Muchos {i}")
    db_session.commit()
    assert count_statements(lambda: c.get(url)) == few_page
    assert count_statements(lambda: c.get(url, headers=HX)) == few_fragment
    assert few_page <= 8


def test_board_is_a_visits_by_spend_matrix_with_revenue(login, make_client, add_visits, db_session):
    """UX review D17: nuevo/regular/VIP × bajo/medio/alto with clients, share and revenue per cell, each cell
    linking to its list, and the Sin gasto segment apart with its explanation."""
    vip, regular, _ = _segment_data(make_client, add_visits)
    add_visits(make_client(name="Nuevo Alto"), visits=1, spend=180000)
    counts = segment_counts()
    html = login("gerente").get(BOARD).text
    matrix = html.split('id="segment-matrix"')[1].split("</table>")[0]
    rows = [r.split("</tr>")[0] for r in matrix.split('<tr id="row-')[1:]]
    assert [r.split('"')[0] for r in rows] == ["new", "regular", "vip"]
    for row, band in zip(rows, ("new", "regular", "vip"), strict=True):
        cells = row.split('<td id="card-')[1:]
        assert [c.split('"')[0] for c in cells] == [f"{band}_{s}_spend" for s in ("low", "medium", "high")]
    vip_cell = matrix.split('id="card-vip_high_spend"')[1].split("</td>")[0]
    share = counts["vip_high_spend"] * 100 / sum(counts.values())
    assert f'segment-count">{counts["vip_high_spend"]}<' in vip_cell and "$600.000" in vip_cell  # 3 × $200.000
    assert f"{share:.1f} %".replace(".", ",") in vip_cell
    assert 'href="/ventas/reportes/segmentacion-clientes/vip_high_spend/"' in vip_cell
    assert "segment-heat-" in vip_cell  # shaded by how busy the cell is
    assert "$130.000" in matrix.split('id="card-regular_medium_spend"')[1].split("</td>")[0]
    assert "$180.000" in matrix.split('id="card-new_high_spend"')[1].split("</td>")[0]
    assert 'id="col-low"' in matrix and "menos de $50.000" in matrix and "6 o más visitas" in matrix
    zero = html.split('id="segment-zero"')[1].split("</section>")[0]
    assert f'segment-count">{counts["zero_spend"]}<' in zero and "sin visitas y sin pagos" in zero
    assert "Nuevos, gasto bajo" in zero and "zero_spend/" in zero
    assert "$910.000" in html.split('id="segment-total"')[1].split("</p>")[0]  # 600.000 + 130.000 + 180.000


def test_select_for_clients_form_messages_and_odd_values(login, make_client, make_campaign, db_session):
    """The form's messages are the ones the view gave by hand: a bad or closed campaign first, then the segment,
    then an empty selection; odd ids are ignored, never a 500."""
    c = login("marketing")
    open_campaign = make_campaign()
    closed = make_campaign(status="Completed")
    url = "/ventas/admin/campaign/select-for-clients/"
    cases = [
        ({"campaign": "abc", "segmento": "nope"}, "Elija una campaña en planificación o activa."),
        ({"campaign": "99999999999", "selected_clients": "1"}, "Elija una campaña en planificación o activa."),
        ({"campaign": str(closed.id)}, "Elija una campaña en planificación o activa."),
        ({"campaign": str(open_campaign.id), "segmento": "nope"}, "Segmento desconocido."),
        ({"campaign": str(open_campaign.id), "selected_clients": "x,²,-1, ,"}, "No se seleccionaron clientes."),
    ]
    for data, message in cases:
        resp = c.post(url, data={**data, "origen": BOARD})
        assert resp.status_code == 303 and resp.headers["Location"] == BOARD, data
        with c.session_transaction() as sess:
            assert ("error", message) in sess.pop("_flashes", []), data
    client = make_client()
    resp = c.post(url, data={"campaign": str(open_campaign.id), "selected_clients": [f"{client.id},x", str(client.id)]})
    assert resp.status_code == 303
    with c.session_transaction() as sess:
        flashes = [m for _, m in sess.get("_flashes", [])]
    assert f"1 clientes agregados a la campaña «{open_campaign.name}» (0 ya estaban)." in flashes
    resp = c.post(url, data={"campaign": str(open_campaign.id), "origen": "//evil.example.com/"})
    assert resp.headers["Location"] == BOARD  # only local paths
