"""Segmentation board (crm.md §6.4) and segment export (reports.md §7): a visits × spend matrix of clients and
revenue from the client_stats table (client_queries.segment_figures_select, the query behind segment_counts),
lists and exports streamed from the same table through crm.queries."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request

from app.auth.decorators import role_required
from app.core.db import stream_rows
from app.core.money import format_clp
from app.core.pagination import Page, page_of, parse_page
from app.core.xlsx import Sheet, export_filename, xlsx_download
from app.crm import queries as crm_q
from app.crm.forms import CampaignSelectionForm
from app.extensions import db
from app.reports.blueprint import bp
from app.sales.client_queries import (
    SEGMENT_KEYS,
    ZERO_SPEND,
    Thresholds,
    segment_figures,
    segment_labels,
    threshold_legend,
)
from app.web.htmx import render_page, wants_fragment

MARKETING = ("marketing", "gerente", "admin")
PER_PAGE = 50
EXPORT_VALUES = ("excel", "xlsx")
EXPORT_HEADERS = (
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


VISIT_ROWS = (("new", "Nuevos"), ("regular", "Regulares"), ("vip", "VIP"))
SPEND_COLUMNS = (("low", "Gasto bajo"), ("medium", "Gasto medio"), ("high", "Gasto alto"))


def _board_context() -> dict:
    """The visits × spend matrix (UX review D17): per cell clients, share, revenue and a heat level; row and
    column totals; the *Sin gasto* segment apart."""
    counts, revenue = segment_figures()
    labels = segment_labels()
    total = sum(counts.values())
    busiest = max((counts[f"{v}_{s}_spend"] for v, _ in VISIT_ROWS for s, _ in SPEND_COLUMNS), default=0)

    def cell(key: str) -> dict:
        share = counts[key] * 100 / total if total else 0.0
        heat = 0 if not counts[key] else min(4, 1 + counts[key] * 4 // (busiest + 1))
        return {
            "key": key,
            "label": labels[key],
            "count": counts[key],
            "revenue": revenue[key],
            "percent": share,
            "heat": heat,
        }

    rows = []
    for v, v_label in VISIT_ROWS:
        cells = [cell(f"{v}_{s}_spend") for s, _ in SPEND_COLUMNS]
        rows.append(
            {
                "band": v,
                "label": v_label,
                "cells": cells,
                "count": sum(c["count"] for c in cells),
                "revenue": sum(c["revenue"] for c in cells),
            }
        )
    columns = [
        {
            "band": s,
            "label": s_label,
            "count": sum(r["cells"][i]["count"] for r in rows),
            "revenue": sum(r["cells"][i]["revenue"] for r in rows),
        }
        for i, (s, s_label) in enumerate(SPEND_COLUMNS)
    ]
    t = Thresholds.from_config()
    bands = {
        "new": f"0–{t.visits_regular - 1} visitas",
        "regular": f"{t.visits_regular}–{t.visits_vip - 1} visitas",
        "vip": f"{t.visits_vip} o más visitas",
        "low": f"menos de {format_clp(t.spend_medium)}",
        "medium": f"{format_clp(t.spend_medium)} a {format_clp(t.spend_high - 1)}",
        "high": f"{format_clp(t.spend_high)} o más",
    }
    return {
        "rows": rows,
        "columns": columns,
        "zero": cell(ZERO_SPEND),
        "total": total,
        "total_revenue": sum(revenue.values()),
        "legend": threshold_legend(),
        "labels": labels,
        "counts": counts,
        "bands": bands,
        "spend_medium": t.spend_medium,
    }


@bp.get("/reportes/segmentacion-clientes/")
@role_required(*MARKETING)
def segmentation_board():
    return render_page("reports/segmentation.html", None, segment=None, **_board_context())


def _export(segment: str, q: str, label: str):
    def rows():
        for r in stream_rows(db.session, crm_q.segment_clients_select(segment, q)):
            yield (
                r.id,
                r.name,
                r.phone,
                r.email or "",
                r.visits,
                int(r.spend),
                r.last_visit,
                label,
                "Sí" if r.accepts_promotional else "No",
            )

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
        segment_total = (
            page.total
            if not q
            else db.session.execute(
                sa.select(sa.func.count()).select_from(crm_q.segment_client_ids_select(segment).subquery())
            ).scalar_one()
        )
    campaigns = db.session.execute(crm_q.open_campaigns_select()).all()
    ctx = {
        "segment": segment,
        "segment_label": labels[segment],
        "q": q,
        "page": page,
        "campaigns": campaigns,
        "segment_total": segment_total,
        "select_form": CampaignSelectionForm(formdata=None),
    }
    return render_page("reports/segmentation.html", "segment_list", **ctx, **(board or {}))


def _page(stmt, number: int, total: int) -> Page:
    """One page when the total is already known (the board's count of the segment): no count statement."""
    return page_of(db.session, stmt, total, number, PER_PAGE, scalars=False)


def _page_with_total(stmt, number: int) -> Page:
    """One page and the filtered total in one pass over the stats (`count(*) OVER ()`); only a page past
    the end needs a second statement."""
    counted = stmt.add_columns(sa.func.count().over().label("_total"))
    rows = db.session.execute(counted.limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    if rows:
        return Page(items=rows, page=number, per_page=PER_PAGE, total=rows[0]._total)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    if number > 1 and total:
        return _page(stmt, number, total)
    return Page(items=[], page=1, per_page=PER_PAGE, total=total)
