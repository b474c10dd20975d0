"""Back-office CRUD for leads, companies, contacts, deals, activities and interactions (crm.md §10). Save hooks
call crm.services so the rules (E.164 phones, one related record per activity, lead auto-status, conversion)
always apply. marketing and admin write; gerente reads."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional

from app.admin.views import RoleModelView, _clp
from app.crm import services
from app.crm.models import (
    ACTIVITY_TYPES,
    DEAL_STAGE_LABELS,
    INTERACTION_TYPES,
    LEAD_SOURCE_LABELS,
    LEAD_STATUS_LABELS,
    Activity,
    CampaignInteraction,
    Company,
    Contact,
    Deal,
    Lead,
)
from app.extensions import db
from app.sales.models import Order

CRM_READ = frozenset({"marketing", "gerente", "admin"})
CRM_WRITE = frozenset({"marketing", "admin"})
PERSON_LABELS = {
    "first_name": "Nombre",
    "last_name": "Apellido",
    "email": "Correo electrónico",
    "phone": "Teléfono",
    "company_name": "Empresa",
    "status": "Estado",
    "source": "Origen",
    "notes": "Notas",
    "campaign": "Campaña",
    "company": "Empresa",
    "job_title": "Cargo",
    "client": "Cliente",
    "created_at": "Creado",
}
ACTIVITY_INLINE = {
    "form_columns": ("id", "activity_type", "subject", "notes"),
    "form_overrides": {"activity_type": SelectField},
    "form_args": {"activity_type": {"choices": [(t, t) for t in ACTIVITY_TYPES], "label": "Tipo"}},
}


class CrmView(RoleModelView):
    read_roles = CRM_READ
    write_roles = CRM_WRITE


def _apply_new_activity_rules(model) -> None:
    for activity in getattr(model, "activities", []) or []:
        if activity.id is None:
            activity.created_by_id = activity.created_by_id or current_user.id
            services.apply_activity_rules(activity)


class LeadView(CrmView):
    column_list = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "status",
        "source",
        "campaign",
        "convert",
    )
    column_searchable_list = ("first_name", "last_name", "email", "company_name")
    column_filters = ("status", "source")
    column_labels = {**PERSON_LABELS, "convert": ""}
    column_formatters = {
        "status": lambda v, c, m, n: LEAD_STATUS_LABELS.get(m.status, m.status),
        "source": lambda v, c, m, n: LEAD_SOURCE_LABELS.get(m.source, m.source),
        "convert": lambda v, c, m, n: v._convert_button(m),
    }
    form_columns = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "status",
        "source",
        "campaign",
        "notes",
    )
    form_overrides = {"status": SelectField, "source": SelectField}
    form_args = {
        "status": {"choices": list(LEAD_STATUS_LABELS.items()), "label": "Estado"},
        "source": {"choices": list(LEAD_SOURCE_LABELS.items()), "label": "Origen"},
    }
    inline_models = ((Activity, ACTIVITY_INLINE),)

    def _convert_button(self, lead):
        if lead.status != "Qualified" or not self._can_write():
            return ""
        return Markup(
            '<form method="post" action="{}" class="d-inline"><input type="hidden" name="csrf_token" value="{}">'
            '<button class="btn btn-sm btn-outline-primary" type="submit">Convertir a contacto</button></form>'
        ).format(url_for(".convert_one", id=lead.id), generate_csrf())

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        services.clean_person(model)
        if not model.email:
            from app.core.errors import ValidationError

            raise ValidationError("El email es obligatorio.")
        _apply_new_activity_rules(model)

    def _convert(self, leads):
        for category, message in services.convert_leads(leads, by=current_user):
            flash(message, "error" if category == "warning" else category)
        db.session.commit()

    @action("convert", "Convertir Leads Calificados a Contactos")
    def action_convert(self, ids):
        if not self._can_write():
            from flask import abort

            abort(403)
        self._convert(db.session.scalars(db.select(Lead).where(Lead.id.in_([int(i) for i in ids]))).all())

    @expose("/convert/<int:id>/", methods=("POST",))
    def convert_one(self, id):
        if not self._can_write():
            from flask import abort

            abort(403)
        lead = db.get_or_404(Lead, id)
        self._convert([lead])
        return redirect(request.referrer or url_for(".index_view"), 303)


class CompanyView(CrmView):
    column_list = ("name", "website", "address")
    column_searchable_list = ("name",)
    column_labels = {"name": "Nombre", "website": "Sitio web", "address": "Dirección", "contacts": "Contactos"}
    form_columns = ("name", "website", "address")
    inline_models = ((Contact, {"form_columns": ("id", "first_name", "last_name", "email", "phone", "job_title")}),)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.name = (model.name or "").strip()
        for contact in model.contacts:
            services.clean_person(contact)


class ContactView(CrmView):
    column_list = ("first_name", "last_name", "email", "phone", "company", "job_title", "client")
    column_searchable_list = ("first_name", "last_name", "email", "phone")
    column_labels = PERSON_LABELS
    form_columns = ("first_name", "last_name", "email", "phone", "job_title", "company", "client", "notes")
    form_ajax_refs = {"client": {"fields": ("name", "phone", "email"), "page_size": 10}}
    inline_models = ((Activity, ACTIVITY_INLINE),)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        services.clean_person(model)
        _apply_new_activity_rules(model)


class DealView(CrmView):
    column_list = ("name", "contact", "stage", "amount", "probability", "expected_close_date", "campaign")
    column_searchable_list = ("name",)
    column_filters = ("stage",)
    column_formatters = {"amount": _clp, "stage": lambda v, c, m, n: DEAL_STAGE_LABELS.get(m.stage, m.stage)}
    column_labels = {
        "name": "Nombre",
        "contact": "Contacto",
        "stage": "Etapa",
        "amount": "Monto",
        "probability": "Probabilidad (%)",
        "expected_close_date": "Cierre esperado",
        "campaign": "Campaña",
        "notes": "Notas",
        "related_booking": "Venta/Reserva (ID)",
    }
    form_columns = (
        "name",
        "contact",
        "stage",
        "expected_close_date",
        "amount",
        "probability",
        "related_booking",
        "campaign",
        "notes",
    )
    form_overrides = {"stage": SelectField}
    form_args = {"stage": {"choices": list(DEAL_STAGE_LABELS.items()), "label": "Etapa"}}
    form_extra_fields = {"related_booking": IntegerField("Venta/Reserva (ID)", validators=[Optional()])}
    form_ajax_refs = {"contact": {"fields": ("first_name", "last_name", "email"), "page_size": 10}}
    inline_models = ((Activity, ACTIVITY_INLINE),)

    def on_form_prefill(self, form, id):
        form.related_booking.data = self.get_one(id).related_booking_id

    def on_model_change(self, form, model, is_created):
        from app.core.errors import ValidationError

        super().on_model_change(form, model, is_created)
        if model.amount is None or model.amount < 0:
            raise ValidationError("El monto debe ser un entero ≥ 0 (CLP).")
        if model.probability is None or not 0 <= model.probability <= 100:
            raise ValidationError("La probabilidad debe estar entre 0 y 100.")
        booking = form.related_booking.data
        if booking is not None and db.session.get(Order, booking) is None:
            raise ValidationError(f"No existe la venta/reserva #{booking}.")
        model.related_booking_id = booking
        _apply_new_activity_rules(model)


class ActivityView(CrmView):
    column_list = (
        "activity_date",
        "activity_type",
        "subject",
        "related_lead",
        "related_contact",
        "related_deal",
        "campaign",
    )
    column_filters = ("activity_type",)
    column_default_sort = ("activity_date", True)
    column_labels = {
        "activity_date": "Fecha",
        "activity_type": "Tipo",
        "subject": "Asunto",
        "notes": "Notas",
        "related_lead": "Prospecto",
        "related_contact": "Contacto",
        "related_deal": "Oportunidad",
        "campaign": "Campaña",
    }
    form_columns = (
        "activity_type",
        "subject",
        "notes",
        "activity_date",
        "related_lead",
        "related_contact",
        "related_deal",
        "campaign",
    )
    form_overrides = {"activity_type": SelectField}
    form_args = {"activity_type": {"choices": [(t, t) for t in ACTIVITY_TYPES], "label": "Tipo"}}

    def on_model_change(self, form, model, is_created):
        from app.core import clock
        from app.core.errors import ValidationError

        super().on_model_change(form, model, is_created)
        if sum(x is not None for x in (model.related_lead, model.related_contact, model.related_deal)) > 1:
            raise ValidationError("Una actividad se relaciona con un solo prospecto, contacto u oportunidad.")
        if model.activity_date is None:
            model.activity_date = clock.now()
        elif model.activity_date.tzinfo is None:
            model.activity_date = model.activity_date.replace(tzinfo=clock.LOCAL_TZ)
        services.apply_activity_rules(model)


class InteractionView(CrmView):
    column_list = ("timestamp", "interaction_type", "contact", "campaign", "activity")
    column_filters = ("interaction_type",)
    column_default_sort = ("timestamp", True)
    column_labels = {
        "timestamp": "Fecha",
        "interaction_type": "Tipo",
        "contact": "Contacto",
        "campaign": "Campaña",
        "activity": "Actividad",
        "details": "Detalle",
    }
    form_columns = ("interaction_type", "contact", "campaign", "timestamp")
    form_overrides = {"interaction_type": SelectField}
    form_args = {"interaction_type": {"choices": [(t, t) for t in INTERACTION_TYPES], "label": "Tipo"}}

    def on_model_change(self, form, model, is_created):
        from app.core import clock
        from app.core.errors import ValidationError

        super().on_model_change(form, model, is_created)
        if model.contact is None or model.campaign is None:
            raise ValidationError("Contacto y campaña son obligatorios.")
        if model.timestamp is None:
            model.timestamp = clock.now()
        elif model.timestamp.tzinfo is None:
            model.timestamp = model.timestamp.replace(tzinfo=clock.LOCAL_TZ)


def register_crm_views(admin) -> None:
    s = db
    for view in (
        LeadView(Lead, s, name="Prospectos", category="CRM"),
        CompanyView(Company, s, name="Empresas", category="CRM"),
        ContactView(Contact, s, name="Contactos", category="CRM"),
        DealView(Deal, s, name="Oportunidades", category="CRM"),
        ActivityView(Activity, s, name="Actividades", category="CRM"),
        InteractionView(CampaignInteraction, s, name="Interacciones", category="CRM"),
    ):
        admin.add_view(view)
