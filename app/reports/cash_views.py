"""Caja diaria, caja diaria recepcionistas and cierre de caja (spec reports.md §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from types import SimpleNamespace

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.services import SYSTEM_USERNAME
from app.core import clock
from app.core.errors import DomainError
from app.core.pagination import page_of_select, parse_page
from app.core.xlsx import export_filename, xlsx_download
from app.extensions import db
from app.reports import cash_exports as exports
from app.reports import cash_queries as queries
from app.reports.blueprint import bp
from app.reports.cash_queries import CashFilter
from app.reports.filters import parse_date_range
from app.reports.forms import CashCloseForm, ReopenCloseForm
from app.sales import cash_queries, cash_services
from app.sales.models import CashClose
from app.web.forms import submit
from app.web.htmx import render_page, see_other, wants_fragment
from app.web.params import INVALID_DATE_NOTICE, parse_day, parse_flag

PER_PAGE = 50
DIGITS = re.compile(r"[0-9]{1,18}")
MANAGERS = ("gerente", "admin")
EXPORTS = ("excel", "xlsx")


# --- caja diaria -------------------------------------------------------------------------------------------------


@dataclass
class CashSummary:
    """Blocks A–D and the detail footer of one filter, from one grouped statement whatever the number of rows
    (`load_summary`): per method (A, B, footer), per user for discounts (C) and per user (D)."""

    filter: CashFilter
    by_method: list  # every method with filtered payments (valid or voided)
    discounts: list
    users: list

    @property
    def methods(self) -> list:
        """Block A: real-money methods with valid payments."""
        return [m for m in self.by_method if m.counts_as_cash and m.transactions]

    @property
    def cash_total(self) -> dict[str, int]:
        return {key: sum(getattr(m, key) for m in self.methods) for key in ("transactions", "income", "refunds", "net")}

    @property
    def giftcards(self) -> SimpleNamespace:
        """Block B: valid gift-card redemptions (not money received)."""
        rows = [m for m in self.by_method if m.code == queries.GIFTCARD]
        return SimpleNamespace(count=sum(m.transactions for m in rows), total=sum(m.net for m in rows))

    @property
    def totals(self) -> SimpleNamespace:
        """Detail footer over every filtered row: valid count and Σ; voided rows counted apart, never summed."""
        return SimpleNamespace(
            count=sum(m.transactions for m in self.by_method),
            total=sum(m.net for m in self.by_method),
            voided=sum(m.voided for m in self.by_method),
        )

    @property
    def discount_count(self) -> int:
        return sum(d.count for d in self.discounts)

    @property
    def discount_total(self) -> int:
        return sum(d.total for d in self.discounts)

    def chart(self) -> dict:
        """Chart.js config (data only; the `clp` format is applied by static/js/charts.js)."""
        return {
            "type": "bar",
            "data": {
                "labels": [m.label for m in self.methods],
                "datasets": [
                    {"type": "bar", "label": "Neto", "data": [m.net for m in self.methods], "yAxisID": "y", "order": 2},
                    {
                        "type": "line",
                        "label": "Transacciones",
                        "data": [m.transactions for m in self.methods],
                        "yAxisID": "y1",
                        "order": 1,
                    },
                ],
            },
            "options": {
                "responsive": True,
                "aspectRatio": 3,
                "scales": {
                    "y": {
                        "beginAtZero": True,
                        "position": "left",
                        "format": "clp",
                        "title": {"display": True, "text": "Neto"},
                    },
                    "y1": {
                        "beginAtZero": True,
                        "position": "right",
                        "grid": {"drawOnChartArea": False},
                        "ticks": {"precision": 0},
                        "title": {"display": True, "text": "Transacciones"},
                    },
                },
            },
        }


_METHOD_SUMS = ("transactions", "income", "refunds", "net", "voided")


def load_summary(f: CashFilter) -> CashSummary:
    """Folds the rows of `queries.cash_groups` (one statement): per method (every method with filtered payments,
    valid or voided), discounts per user, and per user (users with valid payments or active discounts); rows
    without a user count as the `sistema` user's, in one row shown last."""
    rows = db.session.execute(*queries.cash_groups(f)).all()
    methods: dict[str, SimpleNamespace] = {}
    users: dict[str, SimpleNamespace] = {}
    discounts: dict[str, SimpleNamespace] = {}
    for r in sorted(rows, key=lambda r: (r.method_rank, r.user_rank)):
        if r.code is None:
            d = discounts.setdefault(
                _actor(r.username), SimpleNamespace(user_id=r.user_id, username=_actor(r.username), count=0, total=0)
            )
            d.count += int(r.discount_count)
            d.total += int(r.discounts)
            continue
        m = methods.setdefault(
            r.code,
            SimpleNamespace(
                code=r.code, label=r.label, counts_as_cash=bool(r.counts_as_cash), **dict.fromkeys(_METHOD_SUMS, 0)
            ),
        )
        for key in _METHOD_SUMS:
            setattr(m, key, getattr(m, key) + int(getattr(r, key)))
    for r in sorted(rows, key=lambda r: r.user_rank):
        if r.code is not None and not r.transactions:
            continue  # only voided payments of this user and method: not in block D
        u = users.setdefault(
            _actor(r.username),
            SimpleNamespace(
                user_id=r.user_id,
                username=_actor(r.username),
                payments=0,
                cash_net=0,
                giftcard=0,
                discount_count=0,
                discounts=0,
            ),
        )
        if r.code is None:
            u.discount_count += int(r.discount_count)
            u.discounts += int(r.discounts)
            continue
        u.payments += int(r.transactions)
        if r.counts_as_cash:
            u.cash_net += int(r.net)
        if r.code == queries.GIFTCARD:
            u.giftcard += int(r.net)
    return CashSummary(
        filter=f, by_method=list(methods.values()), discounts=_system_last(discounts), users=_system_last(users)
    )


def _actor(username: str | None) -> str:
    """Who recorded a row as shown: rows without a user (jobs, webhooks, old data) and the built-in `sistema`
    user are one actor, so they make one "sistema" row (UX review D20)."""
    return username or SYSTEM_USERNAME


def _system_last(rows: dict[str, SimpleNamespace]) -> list[SimpleNamespace]:
    return sorted(rows.values(), key=lambda r: r.username == SYSTEM_USERNAME)  # stable: SQL's order otherwise


def _user_filter(args, *, reception: bool, notices: list[str]) -> dict:
    """Which users the report covers. Returns template context plus the CashFilter keyword arguments."""
    raw = (args.get("usuario") or "").strip()
    if reception and current_user.role == "recepcion":  # own payments only, whatever the query string says
        return {
            "user_mode": "fixed",
            "users": [],
            "selected_user": current_user.id,
            "filter_kw": {"user_ids": [current_user.id]},
        }
    role = "recepcion" if reception else None
    users = db.session.scalars(queries.active_users(role)).all()
    base_kw = {"reception_only": True} if reception else {}
    chosen = int(raw) if DIGITS.fullmatch(raw) and int(raw) in {u.id for u in users} else None
    if raw and chosen is None:
        notices.append(
            "Usuario inválido: se muestran todos los de recepción."
            if reception
            else "Usuario inválido: se muestran todos los usuarios."
        )
    kw = dict(base_kw, user_ids=[chosen]) if chosen is not None else base_kw
    return {"user_mode": "reception" if reception else "all", "users": users, "selected_user": chosen, "filter_kw": kw}


def _order_url_builder():
    """Link to the order detail page (`/ventas/venta_reservas/<id>/`) if that page is installed."""
    for rule in current_app.url_map.iter_rules():
        if (
            rule.rule.startswith("/ventas/venta_reservas/<")
            and rule.rule.endswith(">/")
            and len(rule.arguments) == 1
            and "GET" in (rule.methods or ())
        ):
            endpoint, arg = rule.endpoint, next(iter(rule.arguments))
            return lambda order_id: url_for(endpoint, **{arg: order_id})
    return lambda order_id: None


def _filter_args(drop_user: bool) -> dict[str, str]:
    """The report's filters as given (no page, no export), for links that keep them."""
    args = {k: v for k, v in request.args.items() if k not in ("export", "page") and v != ""}
    if drop_user:
        args.pop("usuario", None)
    return args


def _self_url(drop_user: bool, **overrides) -> str:
    args = _filter_args(drop_user)
    args.update({k: v for k, v in overrides.items() if v is not None})
    return url_for(request.endpoint, **args)


def _cash_report(*, reception: bool):
    args = request.args
    rng = parse_date_range(args)
    try:
        rng.end_utc  # noqa: B018  (dates such as 9999-12-31 have no next day)
    except OverflowError:
        rng = parse_date_range({})
        rng.notice = INVALID_DATE_NOTICE
    notices = [rng.notice] if rng.notice else []
    methods = db.session.scalars(queries.payment_methods()).all()
    method = (args.get("metodo_pago") or "").strip() or None
    if method and method not in {m.code for m in methods}:
        notices.append("Método de pago inválido: se muestran todos.")
        method = None
    users_ctx = _user_filter(args, reception=reception, notices=notices)
    include_voided = parse_flag(args.get("incluir_anulados"))
    f = CashFilter(
        rng.start_utc, rng.end_utc, method=method, include_voided=include_voided, **users_ctx.pop("filter_kw")
    )
    summary = load_summary(f)
    giftcard_sales = db.session.execute(queries.giftcard_sales(f)).all()
    title = "Caja Diaria - Recepción" if reception else "Caja Diaria"
    if args.get("export") in EXPORTS:
        method_label = next((m.label for m in methods if m.code == method), "Todos")
        user_label = _selected_user_label(users_ctx, reception)
        filters = [
            ("Reporte", title),
            ("Fecha inicio", rng.start),
            ("Fecha fin", rng.end),
            ("Método de pago", method_label),
            ("Usuario", user_label),
            ("Incluir anulados", "Sí" if include_voided else "No"),
        ]
        return xlsx_download(
            export_filename("Caja_Diaria"), exports.cash_daily_sheets(summary, filters, giftcard_sales=giftcard_sales)
        )
    totals = summary.totals
    rows_total = totals.count + (totals.voided if include_voided else 0)
    page = page_of_select(
        db.session, partial(queries.detail_page, f), rows_total, parse_page(args.get("page")), PER_PAGE, scalars=False
    )
    fixed = users_ctx["user_mode"] == "fixed"
    return render_page(
        "reports/cash_daily.html",
        "cash_report",
        title=title,
        rng=rng,
        notices=notices,
        methods=methods,
        method=method,
        include_voided=include_voided,
        summary=summary,
        page=page,
        totals=totals,
        order_url=_order_url_builder(),
        giftcard_sales=giftcard_sales,
        pager_args=_filter_args(fixed),
        export_url=_self_url(fixed, export="xlsx"),
        action_url=url_for(request.endpoint),
        **users_ctx,
    )


def _selected_user_label(users_ctx: dict, reception: bool) -> str:
    if users_ctx["user_mode"] == "fixed":
        return current_user.username
    chosen = next((u.username for u in users_ctx["users"] if u.id == users_ctx["selected_user"]), None)
    return chosen or ("Todos los de recepción" if reception else "Todos")


@bp.get("/caja-diaria/")
@role_required(*MANAGERS)
def cash_daily():
    return _cash_report(reception=False)


@bp.get("/caja-diaria-recepcionistas/")
@role_required("recepcion", *MANAGERS)
def cash_daily_reception():
    return _cash_report(reception=True)


# --- cierre de caja ----------------------------------------------------------------------------------------------


CASH_CODE = "efectivo"  # counted in the drawer every day, even without movements
STEP_COUNT, STEP_REVIEW = "conteo", "revision"  # the form's two views: blind count, then review


@dataclass
class CloseReviewLine:
    """One asked method of the cierre: its expected amount and, once the typed count is valid, the difference."""

    code: str
    label: str
    expected: int
    counts_as_cash: bool
    counted: int | None

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


@dataclass
class CloseReview:
    lines: list[CloseReviewLine]
    expected_total: int  # over every expected line, asked or not

    @property
    def counted_total(self) -> int | None:
        values = [ln.counted for ln in self.lines]
        return None if any(v is None for v in values) else sum(values)

    @property
    def difference(self) -> int | None:
        counted = self.counted_total
        return None if counted is None else counted - self.expected_total


def _asked_lines(day: date, lines: list) -> list:
    """The methods the cierre asks for (UX review D8): cash always, then every method with valid payments that
    day or a non-zero expected amount; the others are closed as counted 0 (nothing moved, nothing to count)."""
    moved = set(db.session.scalars(queries.methods_with_movement(day)))
    return [ln for ln in lines if ln.code == CASH_CODE or ln.code in moved or ln.expected != 0]


def _close_form(asked: list) -> CashCloseForm:
    """The cierre form of these asked methods, filled from the request when it is a POST."""
    return CashCloseForm.for_methods([(ln.code, ln.label) for ln in asked])


def _close_review(lines: list, asked: list, form: CashCloseForm) -> CloseReview:
    counted = {code: f.data for code, f in form.counted_fields()}  # None while missing or not a valid count
    return CloseReview(
        lines=[
            CloseReviewLine(ln.code, ln.label, ln.expected, ln.counts_as_cash, counted.get(ln.code)) for ln in asked
        ],
        expected_total=sum(ln.expected for ln in lines),
    )


def _close_form_page(
    day: date,
    *,
    status: int = 200,
    notices=(),
    refused: CashCloseForm | None = None,
    conflict: str | None = None,
    step: str = STEP_COUNT,
):
    """The cierre of `day`: one counted input per asked method, holding what was typed and the errors of the
    `refused` form, if any."""
    today = clock.today()
    existing = cash_queries.closed_close(day)
    lines = cash_queries.expected_by_method(day) if existing is None and day <= today else []
    asked = _asked_lines(day, lines) if lines else []  # no lines: closed, future or out-of-range day
    form = _close_form(asked)
    if refused is not None:
        form.copy_errors(refused)
    return render_page(
        "reports/cash_close_form.html",
        "close_form",
        status=status,
        day=day,
        today=today,
        existing=existing,
        form=form,
        review=_close_review(lines, asked, form),
        step=step,
        notices=list(notices),
        conflict=conflict,
        can_pick_date=current_user.role in MANAGERS,
        existing_message=cash_queries.closed_message(existing) if existing is not None else None,
    )


def _posted_day(form: CashCloseForm) -> date | None:
    """The day a posted cierre names (today when it names none); None, with the error on the field, when invalid."""
    if not form.fecha.validate(form):
        return None
    return form.fecha.data or clock.today()


@bp.route("/caja-diaria/cierre/", methods=["GET", "POST"])
@role_required("recepcion", *MANAGERS)
def cash_close_form():
    """Two steps (spec reports.md §2.3, UX review D8): a blind count (`paso=revisar` shows the review), then the
    review with expected amounts and differences (`paso=confirmar`, the default for a bare POST, closes). Without
    JavaScript the review's *Recalcular* button is a `paso=revisar` submit; with it, differences follow the inputs
    through `cash_close_differences`."""
    today = clock.today()
    if request.method == "GET":
        day, notice = parse_day(request.args.get("fecha"))
        notices = [notice] if notice else []
        if current_user.role not in MANAGERS and day != today:
            notices.append("Recepción solo puede cerrar la caja del día de hoy.")
            day = today
        if day > today:
            notices.append("No se puede cerrar la caja de una fecha futura.")
        return _close_form_page(day, notices=notices)
    posted = CashCloseForm()
    day = _posted_day(posted)
    if day is None:  # a POST must name the day it closes
        return _close_form_page(today, status=422, refused=posted)
    try:
        cash_services.check_close_date(day, current_user)
    except DomainError as exc:
        posted.attach(exc)
        return _close_form_page(today, status=posted.status, refused=posted)
    expected = cash_queries.expected_by_method(day)
    asked = _asked_lines(day, expected)
    form = _close_form(asked)
    if form.paso.data == "revisar":
        came_from = STEP_REVIEW if form.vista.data == STEP_REVIEW else STEP_COUNT
        if cash_queries.closed_close(day) is None and not form.validate():
            return _close_form_page(day, status=422, refused=form, step=came_from)
        return _close_form_page(day, step=STEP_REVIEW)

    def close() -> CashClose:
        counted = {code: f.data for code, f in form.counted_fields()}
        for ln in expected:
            counted.setdefault(ln.code, 0)  # not asked: nothing moved, nothing counted
        return cash_services.close_day(day, counted, form.notas.data, by=current_user)

    if submit(form, close):
        flash(f"Caja del {day:%d/%m/%Y} cerrada.", "success")
        return see_other(url_for("reports.cash_close_detail", close_id=form.result.id))
    if form.status == 409:
        return _close_form_page(day, status=409, conflict=form.first_error)
    if form.fecha.errors:  # the service's own date check
        return _close_form_page(today, status=form.status, refused=form)
    return _close_form_page(day, status=form.status, refused=form, step=STEP_REVIEW)


@bp.post("/caja-diaria/cierre/diferencias/")
@role_required("recepcion", *MANAGERS)
def cash_close_differences():
    """The review's live differences: out-of-band fragments per method and in total, computed here from the typed
    counts and the day's expected amounts; a browser without htmx gets the review page."""
    posted = CashCloseForm()
    day = _posted_day(posted)
    if day is None or not wants_fragment():
        notices = posted.fecha.errors if day is None else ()
        return _close_form_page(day or clock.today(), step=STEP_REVIEW, notices=notices)
    if current_user.role not in MANAGERS and day != clock.today():
        abort(403)
    lines = cash_queries.expected_by_method(day) if day <= clock.today() else []  # nothing expected in the future
    asked = _asked_lines(day, lines) if lines else []
    review = _close_review(lines, asked, _close_form(asked))
    return render_page("reports/cash_close_form.html", "close_differences", review=review, oob=True)


def _parse_month(raw: str | None) -> tuple[date, str | None]:
    today = clock.today()
    current = today.replace(day=1)
    if not raw:
        return current, None
    try:
        year, month = raw.strip().split("-")
        first = date(int(year), int(month), 1)
        _month_end(first)
        return first, None
    except (ValueError, OverflowError):
        return current, "Mes inválido, se usó el mes actual."


def _month_end(first: date) -> date:
    return clock.next_month(first) - timedelta(days=1)


@bp.get("/caja-diaria/cierres/")
@role_required(*MANAGERS)
def cash_closes():
    first, notice = _parse_month(request.args.get("mes"))
    rows = db.session.execute(queries.closes_between(first, _month_end(first))).all()
    return render_page(
        "reports/cash_closes.html",
        "closes_table",
        first=first,
        rows=rows,
        notices=[notice] if notice else [],
        month=f"{first:%Y-%m}",
    )


def _load_close(close_id: int) -> CashClose:
    close = db.session.get(CashClose, close_id) or abort(404)
    if current_user.role not in MANAGERS and close.business_date != clock.today():
        abort(403)
    return close


def _close_detail_page(close: CashClose, *, status: int = 200, form: ReopenCloseForm | None = None):
    lines = db.session.execute(queries.close_lines(close.id)).all()
    late = db.session.execute(queries.late_payments(close)).all()
    late_count, late_total = db.session.execute(queries.late_payments_total(close)).one()
    versions = db.session.scalars(queries.close_versions(close.business_date)).all()
    return render_page(
        "reports/cash_close_detail.html",
        "close_reopen",
        status=status,
        close=close,
        lines=lines,
        late=late,
        late_count=late_count,
        late_total=late_total,
        versions=versions,
        in_force=cash_queries.closed_close(close.business_date),
        order_url=_order_url_builder(),
        can_reopen=current_user.role in MANAGERS and close.status == "cerrada",
        form=form or ReopenCloseForm(formdata=None),
        today=clock.today(),
    )


@bp.get("/caja-diaria/cierres/<int:close_id>/")
@role_required("recepcion", *MANAGERS)
def cash_close_detail(close_id: int):
    close = _load_close(close_id)
    if request.args.get("export") in EXPORTS:
        lines = db.session.execute(queries.close_lines(close.id)).all()
        _, late_total = db.session.execute(queries.late_payments_total(close)).one()
        return xlsx_download(
            export_filename("Cierre_Caja", stamp=f"{close.business_date:%Y%m%d}"),
            exports.close_sheets(close, lines, late_total),
        )
    return _close_detail_page(close)


@bp.post("/caja-diaria/cierres/<int:close_id>/reabrir/")
@role_required(*MANAGERS)
def cash_close_reopen(close_id: int):
    close = db.session.get(CashClose, close_id) or abort(404)
    form = ReopenCloseForm()
    if submit(form, lambda: cash_services.reopen_close(close, form.motivo.data, by=current_user)):
        flash(f"Caja del {close.business_date:%d/%m/%Y} reabierta.", "success")
        return see_other(url_for("reports.cash_close_detail", close_id=close_id))
    close = db.session.get(CashClose, close_id)  # as it is now (a refused reopen was rolled back)
    return _close_detail_page(close, status=form.status, form=form)
