"""Flask-Admin views. Reads and writes follow the permission matrix; models with invariants are read-only and
change only through the /ventas/ screens and services; deletes that would lose history are refused."""

from __future__ import annotations

import logging
from datetime import date, datetime

import sqlalchemy as sa
from flask import abort, current_app, flash, request
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model import typefmt
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2 import pass_context
from werkzeug.security import generate_password_hash
from wtforms import BooleanField, FileField, PasswordField, SelectField, StringField

from app.auth.models import ROLES, ApiToken, User
from app.catalog.models import (
    Product,
    ProductCategory,
    Provider,
    ProviderAbsence,
    Purchase,
    Service,
    ServiceBlock,
    ServiceCategory,
    SlotBlock,
    StockMovement,
)
from app.catalog.policy import SERVICE_TYPE_LABELS, WEEKDAY_LABELS, WEEKDAYS, grid_to_inputs, parse_grid_inputs
from app.clients.models import Client, ClientEvent, ConsentEvent
from app.core.errors import DomainError, HasHistory, ValidationError
from app.core.money import format_clp
from app.core.phone import format_phone
from app.core.uow import unit_of_work
from app.extensions import db
from app.sales import signals
from app.sales.models import DiscountCode, Order, Payment, PaymentMethod
from app.web.params import MAX_PAGE, parse_int

log = logging.getLogger(__name__)

STAFF = frozenset(ROLES)
MANAGERS = frozenset({"gerente", "admin"})
DESK = frozenset({"recepcion", "gerente", "admin"})
ADMIN_ONLY = frozenset({"admin"})
WRITE_VIEWS = {"create_view", "edit_view", "delete_view", "action_view", "ajax_update"}


def _deny():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    abort(403)


class RoleIndexView(AdminIndexView):
    read_roles = STAFF

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        return _deny()

    @expose("/")
    def index(self):
        return self.render("admin/aremko_index.html")


def _clp(view, context, model, name):
    return format_clp(getattr(model, name))


PHONE_COLUMNS = {"phone", "telefono", "whatsapp"}


def _fmt_datetime(view, value, name=None):
    from app.web.filters import fmt_datetime

    return fmt_datetime(value)


def _fmt_date(view, value, name=None):
    from app.web.filters import fmt_date

    return fmt_date(value)


_TYPE_FORMATTERS = {**typefmt.BASE_FORMATTERS, datetime: _fmt_datetime, date: _fmt_date}


def _valid_id(value) -> bool:
    text = str(value or "").strip()
    return text.isascii() and text.isdigit() and 0 < int(text) < 2**31


class _SafeAjaxLoader(QueryAjaxModelLoader):
    """Select2 references: a malformed id posted in a form is no record (PostgreSQL would refuse the query)."""

    def get_one(self, pk):
        return super().get_one(pk) if _valid_id(pk) else None


class RoleModelView(ModelView):
    """Readable by `read_roles`, writable by `write_roles`; POSTs by read-only roles get 403."""

    read_roles: frozenset = STAFF
    write_roles: frozenset = frozenset()
    allow_delete = True
    form_base_class = FlaskForm
    page_size = 50
    can_view_details = True
    can_set_page_size = False

    def _get_list_extra_args(self):
        """Flask-Admin reads `page`, `sort` and `desc` with int(): parse them strictly instead, the (0-based) page
        clamped, so no negative or overflowing OFFSET reaches the database."""
        args = super()._get_list_extra_args()
        page = parse_int(request.args.get("page"), maximum=10**18)
        args.page = min(max(page or 0, 0), MAX_PAGE)
        args.page_size = 0
        args.sort = parse_int(request.args.get("sort"), minimum=0, maximum=1000)
        args.sort_desc = parse_int(request.args.get("desc"), minimum=0, maximum=1)
        return args

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        return _deny()

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        if name in WRITE_VIEWS and not self._can_write():
            abort(403)
        return None

    def _can_write(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.write_roles

    @property
    def can_create(self):
        return self._can_write()

    @property
    def can_edit(self):
        return self._can_write()

    @property
    def can_delete(self):
        return self.allow_delete and self._can_write()

    # Santiago local DD/MM/YYYY HH:MM and the app's phone format in lists and details (UX review D14)
    column_type_formatters = _TYPE_FORMATTERS
    column_type_formatters_detail = _TYPE_FORMATTERS

    @pass_context
    def get_list_value(self, context, model, name):
        if name in PHONE_COLUMNS and name not in (self.column_formatters or {}):
            return format_phone(getattr(model, name, None)) or ""
        return super().get_list_value(context, model, name)

    @pass_context
    def get_detail_value(self, context, model, name):
        if name in PHONE_COLUMNS and name not in (self.column_formatters_detail or self.column_formatters or {}):
            return format_phone(getattr(model, name, None)) or ""
        return super().get_detail_value(context, model, name)

    def get_one(self, id):
        """A malformed id (not a database integer) is a missing record, not a database error."""
        return super().get_one(id) if _valid_id(id) else None

    def _create_ajax_loader(self, name, options):
        loader = super()._create_ajax_loader(name, options)
        loader.__class__ = _SafeAjaxLoader
        return loader

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(exc.message, "error")
            return True
        return super().handle_view_exception(exc)

    def delete_model(self, model):
        has_history = getattr(model, "has_history", None)
        if has_history is not None and has_history():
            flash(HasHistory().message, "error")
            return False
        return super().delete_model(model)

    def on_model_change(self, form, model, is_created):
        if is_created and hasattr(model, "created_by_id") and model.created_by_id is None:
            model.created_by_id = current_user.id


class ReadOnlyView(RoleModelView):
    """Invariant-bearing models: listed and inspected here, changed only through their services."""

    write_roles = frozenset()
    allow_delete = False


# --- catalogue ---------------------------------------------------------------------------------------------


class CatalogView(RoleModelView):
    read_roles = STAFF
    write_roles = MANAGERS


def _image_field():
    return FileField("Imagen (JPEG, PNG o WebP, máx. 5 MB)")


def _save_upload(form, model):
    from app.web.media_views import save_image

    upload = getattr(form, "image_upload", None)
    if upload is not None and upload.data and getattr(upload.data, "filename", ""):
        model.image = save_image(upload.data.stream)


class ServiceCategoryView(CatalogView):
    column_list = ("name", "sort_order", "image")
    column_searchable_list = ("name",)
    column_labels = {
        "name": "Nombre",
        "sort_order": "Orden",
        "image": "Imagen",
        "description": "Descripción",
        "schedule_note": "Horarios (texto)",
    }
    form_columns = ("name", "description", "schedule_note", "sort_order", "image_upload")
    form_extra_fields = {"image_upload": _image_field()}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        _save_upload(form, model)


class ServiceView(CatalogView):
    column_list = (
        "name",
        "category",
        "service_type",
        "base_price",
        "duration_minutes",
        "min_people",
        "max_people",
        "max_concurrent_bookings",
        "is_active",
        "is_published",
    )
    column_searchable_list = ("name",)
    column_filters = ("is_active", "is_published", "service_type", "category.name")
    column_formatters = {"base_price": _clp, "service_type": lambda v, c, m, n: SERVICE_TYPE_LABELS.get(m.service_type)}
    column_labels = {
        "name": "Nombre",
        "category": "Categoría",
        "category.name": "Categoría",
        "service_type": "Tipo",
        "base_price": "Precio base",
        "duration_minutes": "Duración (min)",
        "min_people": "Capacidad mínima",
        "max_people": "Capacidad máxima",
        "max_concurrent_bookings": "Cupo por horario",
        "is_active": "Activo",
        "is_published": "Publicado web",
        "providers": "Proveedores",
        "web_description": "Descripción web",
        "sort_order": "Orden",
        "opening_time": "Horario apertura",
        "closing_time": "Horario cierre",
    }
    form_columns = (
        "name",
        "category",
        "service_type",
        "base_price",
        "duration_minutes",
        "min_people",
        "max_people",
        "max_concurrent_bookings",
        "providers",
        "is_active",
        "is_published",
        "web_description",
        "sort_order",
        *(f"grid_{day}" for day in WEEKDAYS),
        "copy_monday",
        "image_upload",
    )
    form_overrides = {"service_type": SelectField}
    form_args = {"service_type": {"choices": list(SERVICE_TYPE_LABELS.items()), "label": "Tipo"}}
    form_extra_fields = {
        **{
            f"grid_{day}": StringField(f"{WEEKDAY_LABELS[day]} (horas separadas por coma, p. ej. 14:00, 17:00)")
            for day in WEEKDAYS
        },
        "copy_monday": BooleanField("Copiar lunes a todos"),
        "image_upload": _image_field(),
    }

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        for day, value in grid_to_inputs(model.slot_grid).items():
            getattr(form, f"grid_{day}").data = value

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        inputs = {day: getattr(form, f"grid_{day}").data or "" for day in WEEKDAYS}
        if form.copy_monday.data:
            inputs = {day: inputs["monday"] for day in WEEKDAYS}
        model.slot_grid = parse_grid_inputs(inputs)
        if model.min_people < 1 or model.max_people < model.min_people:
            raise ValidationError("La capacidad máxima debe ser mayor o igual a la mínima (mínimo 1).")
        if model.max_concurrent_bookings < 1:
            raise ValidationError("El cupo por horario debe ser al menos 1.")
        if model.service_type == "masaje" and not model.providers:
            raise ValidationError("Un masaje necesita al menos un proveedor que lo realice.")
        _save_upload(form, model)


class ProviderView(CatalogView):
    column_list = ("name", "phone", "email", "is_active")
    column_searchable_list = ("name", "email")
    column_filters = ("is_active",)
    column_labels = {
        "name": "Nombre",
        "phone": "Teléfono",
        "email": "Email",
        "is_active": "Activo",
        "address": "Dirección",
    }
    form_columns = ("name", "address", "phone", "email", "is_active")

    def on_model_change(self, form, model, is_created):
        from app.core.identity import normalize_email
        from app.core.phone import normalize_phone

        super().on_model_change(form, model, is_created)
        model.phone = normalize_phone(model.phone) if (model.phone or "").strip() else None
        model.email = normalize_email(model.email)


class ProductCategoryView(CatalogView):
    column_labels = {"name": "Nombre"}
    form_columns = ("name",)


class ProductView(CatalogView):
    column_list = ("name", "category", "base_price", "stock", "is_active", "is_published", "is_gift_card")
    column_searchable_list = ("name",)
    column_filters = ("is_active", "is_published", "is_gift_card", "category.name")
    column_formatters = {"base_price": _clp}
    column_labels = {
        "name": "Nombre",
        "category": "Categoría",
        "category.name": "Categoría",
        "base_price": "Precio base",
        "stock": "Stock",
        "is_active": "Activo",
        "is_published": "Publicado web",
        "is_gift_card": "Es gift card",
        "provider": "Proveedor",
    }
    # stock changes only through purchases, sales and written adjustments (StockMovement)
    form_columns = ("name", "category", "provider", "base_price", "is_active", "is_published", "is_gift_card")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        from app.sales.giftcard_services import check_gift_card_product

        check_gift_card_product(model)  # a gift-card face value within GIFTCARD_MAX_AMOUNT


# --- blocks and absences (front desk) ------------------------------------------------------------------------


class DeskView(RoleModelView):
    read_roles = DESK
    write_roles = DESK


class DateRangeView(DeskView):
    """Blocks and absences: inclusive date ranges whose end cannot precede the start."""

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.end_date < model.start_date:
            raise ValidationError("La fecha de término debe ser igual o posterior a la de inicio.")


def _old(model, name):
    """The value a column had before this request's edit (the current one when unchanged)."""
    history = sa.inspect(model).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(model, name)


class FreesCapacityMixin:
    """Deleting a block (or deactivating/moving a service block) frees capacity: `block_removed` is sent inside the
    same transaction as the change, so the waitlist's offers commit or roll back with it (self-service.md §4)."""

    def freed_slots(self, model, *, old: bool) -> list:  # pragma: no cover - each view defines it
        raise NotImplementedError

    def delete_model(self, model) -> bool:  # Flask-Admin's, with the signal between the delete and the commit
        session = db.session
        try:
            self.on_model_delete(model)
            slots = self.freed_slots(model, old=True)
            session.flush()
            session.delete(model)
            session.flush()
            signals.block_removed.send(model, slots=slots)
            session.commit()
        except Exception as ex:
            if not self.handle_view_exception(ex):
                flash(f"No se pudo eliminar el registro. {ex}", "error")
                log.exception("Failed to delete record.")
            session.rollback()
            return False
        self.after_model_delete(model)
        return True


class ServiceBlockView(FreesCapacityMixin, DateRangeView):
    def freed_slots(self, model, *, old: bool) -> list:
        get = (lambda name: _old(model, name)) if old else (lambda name: getattr(model, name))
        if not get("is_active"):
            return []
        return [(get("service_id"), get("start_date"), get("end_date"))]

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            return
        before = self.freed_slots(model, old=True)
        if before and before != self.freed_slots(model, old=False):
            db.session.flush()
            signals.block_removed.send(model, slots=before)

    column_list = ("service", "start_date", "end_date", "reason", "is_active")
    column_labels = {
        "service": "Servicio (vacío = todo el spa)",
        "start_date": "Desde",
        "end_date": "Hasta",
        "reason": "Motivo",
        "is_active": "Activo",
    }
    form_columns = ("service", "start_date", "end_date", "reason", "is_active")
    column_default_sort = ("start_date", True)


class SlotBlockView(FreesCapacityMixin, DeskView):
    def freed_slots(self, model, *, old: bool) -> list:
        get = (lambda name: _old(model, name)) if old else (lambda name: getattr(model, name))
        return [(get("service_id"), get("date"), get("date"))]

    column_list = ("service", "date", "time", "reason")
    column_labels = {"service": "Servicio", "date": "Fecha", "time": "Hora (HH:MM)", "reason": "Motivo"}
    form_columns = ("service", "date", "time", "reason")

    def on_model_change(self, form, model, is_created):
        from app.catalog.policy import validate_slot_grid

        super().on_model_change(form, model, is_created)
        validate_slot_grid({"monday": [model.time]})  # same HH:MM rule and message as the grid


class ProviderAbsenceView(DateRangeView):
    column_list = ("provider", "start_date", "end_date", "reason")
    column_labels = {"provider": "Proveedor", "start_date": "Desde", "end_date": "Hasta", "reason": "Motivo"}
    form_columns = ("provider", "start_date", "end_date", "reason")


# --- clients -------------------------------------------------------------------------------------------------


class ClientView(RoleModelView):
    read_roles = STAFF
    write_roles = DESK
    column_list = ("name", "phone", "email", "city", "origin", "created_at")
    column_searchable_list = ("name", "phone", "email", "document_id")
    column_filters = ("city", "origin")
    column_labels = {
        "name": "Nombre",
        "phone": "Teléfono",
        "email": "Email",
        "city": "Ciudad",
        "country": "País",
        "document_id": "Documento identidad",
        "birth_date": "Fecha nacimiento",
        "notes": "Notas",
        "origin": "Origen",
        "created_at": "Creado",
    }
    client_fields = ("name", "phone", "email", "document_id", "country", "city", "birth_date", "notes")
    form_columns = (*client_fields, "marketing_consent")
    form_extra_fields = {"marketing_consent": BooleanField("Acepta marketing (solo al crear)")}
    column_default_sort = ("id", True)

    def _data(self, form) -> dict:
        return {f: getattr(form, f).data for f in self.client_fields}

    def create_model(self, form):
        from app.clients.services import create_client

        try:
            with unit_of_work():
                model = create_client(
                    data=self._data(form),
                    origin="recepcion",
                    marketing_consent=bool(form.marketing_consent.data),
                    consent_source="recepcion",
                    by=current_user,
                )
        except DomainError as exc:
            flash(exc.message, "error")
            return False
        return model

    def update_model(self, form, model):
        from app.clients.services import update_client

        try:
            with unit_of_work():
                update_client(model, data=self._data(form), by=current_user)
        except DomainError as exc:
            flash(exc.message, "error")
            return False
        return True

    def delete_model(self, model):
        from app.clients.services import delete_client

        try:
            with unit_of_work():
                delete_client(model, by=current_user)
        except DomainError as exc:
            flash(exc.message, "error")
            return False
        return True


class ClientEventView(ReadOnlyView):
    read_roles = DESK
    column_list = ("created_at", "client", "event_type", "description")
    column_labels = {"created_at": "Fecha", "client": "Cliente", "event_type": "Tipo", "description": "Detalle"}
    column_filters = ("event_type",)
    column_default_sort = ("created_at", True)


class ConsentEventView(ReadOnlyView):
    read_roles = DESK
    column_list = ("created_at", "client_id", "field", "old_value", "new_value", "source")
    column_labels = {
        "created_at": "Fecha",
        "client_id": "Cliente",
        "field": "Preferencia",
        "old_value": "Antes",
        "new_value": "Después",
        "source": "Origen",
    }
    column_default_sort = ("created_at", True)


# --- money (read-only here) ----------------------------------------------------------------------------------


class OrderView(ReadOnlyView):
    read_roles = DESK
    column_list = (
        "id",
        "client",
        "sold_at",
        "origin",
        "total",
        "paid",
        "balance_due",
        "payment_status",
        "booking_status",
    )
    column_formatters = {"total": _clp, "paid": _clp, "balance_due": _clp}
    column_labels = {
        "client": "Cliente",
        "sold_at": "Fecha venta",
        "origin": "Origen",
        "total": "Total",
        "paid": "Pagado",
        "balance_due": "Saldo",
        "payment_status": "Estado pago",
        "booking_status": "Estado reserva",
    }
    column_filters = ("payment_status", "booking_status", "origin")
    column_default_sort = ("id", True)


class PaymentView(ReadOnlyView):
    read_roles = DESK
    column_list = ("id", "order_id", "paid_at", "amount", "method", "status", "reference")
    column_formatters = {"amount": _clp}
    column_labels = {
        "order_id": "Venta",
        "paid_at": "Fecha",
        "amount": "Monto",
        "method": "Método",
        "status": "Estado",
        "reference": "Referencia",
    }
    column_default_sort = ("id", True)


class PurchaseView(ReadOnlyView):
    read_roles = MANAGERS
    column_list = ("id", "purchase_date", "provider", "document_number", "total")
    column_formatters = {"total": _clp}
    column_labels = {
        "purchase_date": "Fecha compra",
        "provider": "Proveedor",
        "document_number": "Documento",
        "total": "Total",
    }


class StockMovementView(ReadOnlyView):
    read_roles = MANAGERS
    column_list = ("created_at", "product", "delta", "reason", "note")
    column_labels = {
        "created_at": "Fecha",
        "product": "Producto",
        "delta": "Cambio",
        "reason": "Motivo",
        "note": "Nota",
    }
    column_default_sort = ("created_at", True)


class PaymentMethodView(RoleModelView):
    read_roles = STAFF
    write_roles = MANAGERS
    allow_delete = False
    column_list = ("code", "label", "is_public", "counts_as_cash", "is_active", "sort_order")
    column_labels = {
        "code": "Código",
        "label": "Nombre",
        "is_public": "En pago web",
        "counts_as_cash": "Dinero real",
        "is_active": "Activo",
        "sort_order": "Orden",
    }
    form_columns = ("label", "is_public", "counts_as_cash", "is_active", "sort_order")


class DiscountCodeView(RoleModelView):
    read_roles = STAFF
    write_roles = MANAGERS
    allow_delete = False
    column_list = ("code", "kind", "value", "is_active", "valid_from", "valid_until", "max_uses")
    column_labels = {
        "code": "Código",
        "kind": "Tipo",
        "value": "Valor",
        "is_active": "Activo",
        "valid_from": "Desde",
        "valid_until": "Hasta",
        "max_uses": "Usos máximos",
        "description": "Descripción",
    }
    form_columns = ("code", "kind", "value", "is_active", "valid_from", "valid_until", "max_uses", "description")
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [("porcentaje", "Porcentaje"), ("monto", "Monto")], "label": "Tipo"}}

    def on_model_change(self, form, model, is_created):
        import re

        super().on_model_change(form, model, is_created)
        model.code = (model.code or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{3,30}", model.code):
            raise ValidationError("El código debe tener 3 a 30 letras o números, sin espacios.")
        if model.kind == "porcentaje" and not 1 <= (model.value or 0) <= 100:
            raise ValidationError("Un porcentaje debe estar entre 1 y 100.")
        if model.kind == "monto" and (model.value or 0) <= 0:
            raise ValidationError("El monto debe ser mayor que cero.")


# --- users ---------------------------------------------------------------------------------------------------


class UserView(RoleModelView):
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    allow_delete = False  # deactivate instead: users are referenced by history
    column_list = ("username", "full_name", "email", "role", "is_active", "last_login_at")
    column_searchable_list = ("username", "full_name", "email")
    column_filters = ("role", "is_active")
    column_exclude_list = ("password_hash",)
    column_details_exclude_list = ("password_hash",)
    column_labels = {
        "username": "Usuario",
        "full_name": "Nombre",
        "email": "Email",
        "role": "Rol",
        "is_active": "Activo",
        "last_login_at": "Último ingreso",
    }
    form_columns = ("username", "full_name", "email", "role", "is_active", "new_password")
    form_overrides = {"role": SelectField}
    form_args = {"role": {"choices": [(r, r) for r in ROLES], "label": "Rol"}}
    form_extra_fields = {"new_password": PasswordField("Contraseña (mínimo 10 caracteres; vacío = sin cambio)")}

    def get_query(self):
        return super().get_query().filter(User.is_system.is_(False))

    def get_count_query(self):
        return super().get_count_query().filter(User.is_system.is_(False))

    def on_model_change(self, form, model, is_created):
        from app.auth.services import validate_password

        super().on_model_change(form, model, is_created)
        password = form.new_password.data or ""
        if is_created and not password:
            raise ValidationError("La contraseña es obligatoria para un usuario nuevo.")
        if password:
            validate_password(password)
            model.password_hash = generate_password_hash(password)
            if not is_created:
                model.end_sessions()


class ApiTokenView(ReadOnlyView):
    read_roles = ADMIN_ONLY
    column_list = ("user", "name", "token_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    column_labels = {
        "user": "Usuario",
        "name": "Nombre",
        "token_prefix": "Prefijo",
        "created_at": "Creado",
        "last_used_at": "Último uso",
        "expires_at": "Vence",
        "revoked_at": "Revocado",
    }


def register_views(admin) -> None:
    s = db
    views = [
        (ServiceCategoryView(ServiceCategory, s, name="Categorías de servicio", category="Catálogo")),
        (ServiceView(Service, s, name="Servicios", category="Catálogo")),
        (ProviderView(Provider, s, name="Proveedores", category="Catálogo")),
        (ProductCategoryView(ProductCategory, s, name="Categorías de producto", category="Catálogo")),
        (ProductView(Product, s, name="Productos", category="Catálogo")),
        (PurchaseView(Purchase, s, name="Compras", category="Catálogo")),
        (StockMovementView(StockMovement, s, name="Movimientos de stock", category="Catálogo")),
        (ServiceBlockView(ServiceBlock, s, name="Bloqueos de servicio", category="Agenda")),
        (SlotBlockView(SlotBlock, s, name="Bloqueos de horario", category="Agenda")),
        (ProviderAbsenceView(ProviderAbsence, s, name="Ausencias", category="Agenda")),
        (ClientView(Client, s, name="Clientes", category="Clientes")),
        (ClientEventView(ClientEvent, s, name="Movimientos", category="Clientes")),
        (ConsentEventView(ConsentEvent, s, name="Consentimientos", category="Clientes")),
        (OrderView(Order, s, name="Ventas", category="Ventas")),
        (PaymentView(Payment, s, name="Pagos", category="Ventas")),
        (PaymentMethodView(PaymentMethod, s, name="Métodos de pago", category="Ventas")),
        (DiscountCodeView(DiscountCode, s, name="Códigos de descuento", category="Ventas")),
        (UserView(User, s, name="Usuarios", category="Configuración")),
        (ApiTokenView(ApiToken, s, name="Tokens de API", category="Configuración")),
    ]
    for view in views:
        admin.add_view(view)
