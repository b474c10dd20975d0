"""Segmentation board (crm.md §6.4) and segment export (reports.md §7): counts from segment_counts(), lists and
exports streamed from client_stats() through crm.queries."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request

from app.auth.decorators import role_required
from app.clients.stats import SEGMENT_KEYS, segment_counts, segment_labels, threshold_legend
from app.core.db import stream_rows
from app.core.pagination import Page, page_of, parse_page
from app.core.xlsx import Sheet, export_filename, xlsx_download
from app.crm import queries as crm_q
from app.extensions import db
from app.reports.views import bp
from app.web.htmx import render_page, wants_fragment

MARKETING = ("marketing", "gerente", "admin")
PER_PAGE = 50
EXPORT_VALUES = ("excel", "xlsx")
EXPORT_HEADERS = ("ID", "Nombre", "Teléfono", "Email", "Visitas", "Gasto Total", "Última Visita", "Segmento",
                  "Acepta Promociones")


def _board_context() -> dict:
    counts = segment_counts()
    labels = segment_labels()
    total = sum(counts.values())
    cards = [{"key": key, "label": labels[key], "count": counts[key],
              "percent": round(counts[key] * 100 / total, 1) if total else 0.0} for key in SEGMENT_KEYS]
    chart = {
        "type": "bar",
        "data": {"labels": [c["label"] for c in cards],
                 "datasets": [{"label": "Clientes", "data": [c["count"] for c in cards],
                               "backgroundColor": "#2f6f5e"}]},
        "options": {"plugins": {"legend": {"display": False}}, "indexAxis": "y"},
    }
    return {"cards": cards, "total": total, "legend": threshold_legend(), "chart": chart, "labels": labels,
            "counts": counts}


@bp.get("/reportes/segmentacion-clientes/")
@role_required(*MARKETING)
def segmentation_board():
    return render_page("reports/segmentation.html", None, segment=None, **_board_context())


def _export(segment: str, q: str, label: str):
    def rows():
        for r in stream_rows(db.session, crm_q.segment_clients_select(segment, q)):
            yield (r.id, r.name, r.phone, r.email or "", r.visits, int(r.spend), r.last_visit, label,
                   "Sí" if r.accepts_promotional else "No")

    sheet = Sheet("Clientes", EXPORT_HEADERS, rows(), money_columns=(5,), wide_columns=(1, 3, 7))
    return xlsx_download(export_filename(f"Segmento_{segment}"), [sheet])


@bp.get("/reportes/segmentacion-clientes/<segment>/")
@role_required(*MARKETING)
def segment_clients(segment: str):
    if segment not in SEGMENT_KEYS:
        abort(404)
    q = (request.args.get("q") or "").strip()[:100]
    labels = segment_labels()
    if request.args.get("export") in EXPORT_VALUES:
        return _export(segment, q, labels[segment])
    number = parse_page(request.args.get("page"))
    board = None if wants_fragment() else _board_context()
    if board is not None and not q:
        segment_total = board["counts"][segment]
        page = _page(crm_q.segment_clients_select(segment, q), number, segment_total)
    else:
        page = _page_with_total(crm_q.segment_clients_select(segment, q), number)
        segment_total = page.total if not q else db.session.execute(sa.select(sa.func.count()).select_from(
            crm_q.segment_client_ids_select(segment).subquery())).scalar_one()
    campaigns = db.session.execute(crm_q.open_campaigns_select()).all()
    ctx = {"segment": segment, "segment_label": labels[segment], "q": q, "page": page, "campaigns": campaigns,
           "segment_total": segment_total}
    return render_page("reports/segmentation.html", "segment_list", **ctx, **(board or {}))


def _page(stmt, number: int, total: int) -> Page:
    """One page when the total is already known (the board's count of the segment): no count statement."""
    return page_of(db.session, stmt, total, number, PER_PAGE, scalars=False)


def _page_with_total(stmt, number: int) -> Page:
    """One page and the filtered total in one pass over client_stats (`count(*) OVER ()`); only a page past
    the end needs a second statement."""
    counted = stmt.add_columns(sa.func.count().over().label("_total"))
    rows = db.session.execute(counted.limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    if rows:
        return Page(items=rows, page=number, per_page=PER_PAGE, total=rows[0]._total)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    if number > 1 and total:
        return _page(stmt, number, total)
    return Page(items=[], page=1, per_page=PER_PAGE, total=total)
