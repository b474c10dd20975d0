"""Browser forms, the house way (ARCHITECTURE.md §3): one Flask-WTF class per form in the package's `forms.py`,
built on the base classes and value fields here, and `submit()` — the one place a posted form is validated, applied
in one unit of work and its refusal turned into field errors.

    form = PaymentForm()
    if submit(form, lambda: record_payment(order, amount=form.monto.data, ..., by=current_user)):
        return done(...)
    return render_page("frontdesk/payment.html", "dialog", status=form.status, form=form, ...)

* Shape and format live in the form (required, an integer CLP, a date, an id); business rules stay in the services,
  whose `DomainError` lands on the field it names (`exc.field`) or above the form, with status 422 or 409.
* CSRF comes from the form (`{{ form.hidden_tag() }}`), never from a hand-written hidden input.
* `OneTimeForm` carries the one-time submission key (app/web/submissions.py): claimed inside the same transaction,
  so a double click takes effect once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime

from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2 import pass_context
from markupsafe import Markup, escape
from wtforms import Field, HiddenField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput

from app.core import clock
from app.core.errors import ConflictError, DomainError
from app.core.money import AmountTooLarge, parse_clp
from app.core.uow import unit_of_work
from app.web.i18n import translated
from app.web.params import MAX_BIGINT, parse_id, parse_int
from app.web.submissions import claim_submission, new_submission_key

AMOUNT_INVALID = _l("Ingrese un monto en pesos, sin decimales (ej. 12.345).")
AMOUNT_TOO_LARGE = _l("El monto es demasiado grande.")
NUMBER_INVALID = _l("Ingrese un número entero.")
CHOICE_INVALID = _l("Elija una opción válida.")
DATE_INVALID = _l("Fecha inválida (DD/MM/AAAA).")
TIME_INVALID = _l("Indique la hora (HH:MM).")


@functools.lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class BaseForm(FlaskForm):
    """Every browser form: Flask-WTF's CSRF token, WTForms' own messages in Spanish, and the refusal of a service
    attached to the field it names."""

    class Meta:
        locales = ("es_CL", "es")

        def get_translations(self, form):
            """WTForms' own messages in the visitor's language, as Flask-WTF gives them, from a per-process copy
            per locale (Flask-WTF loads the catalogue from disk on every request that builds a form: ~0.3 ms)."""
            if not has_request_context() or "babel" not in current_app.extensions:
                return None
            return _wtforms_catalogue(str(get_locale()))

    error_status = 422
    refusal: DomainError | None = None  # the service's refusal `submit()` attached (its status, its failures…)

    def attach(self, exc: DomainError) -> None:
        """A service's refusal: on the field it names (by form field name), else above the form."""
        self.refusal = exc
        # the visitor's language for a refusal the catalogue knows (app/shop/texts.py); as written otherwise
        message = translated(exc.message)
        field = getattr(self, exc.field, None) if exc.field else None
        if isinstance(field, Field):
            field.errors = [*field.errors, message]
        else:
            self.form_errors.append(message)
        if isinstance(exc, ConflictError) or exc.status == 409:
            self.error_status = 409

    @property
    def status(self) -> int:
        """200 for a fresh form, 422 (or the service's 409) for a refused one."""
        return self.error_status if self.errors or self.form_errors else 200

    @property
    def refusal_status(self) -> int:
        """The refusing service's own status (409 a conflict, 422…), 422 for a form that did not validate."""
        return self.refusal.status if self.refusal is not None else 422

    @property
    def first_error(self) -> str | None:
        """The first message to show where a dialog has room for one line."""
        if self.form_errors:
            return self.form_errors[0]
        for errors in self.errors.values():
            if errors:
                return errors[0] if isinstance(errors, (list, tuple)) else str(errors)
        return None


class SubmissionKeyInput(HiddenInput):
    """The one-time key rendered exactly as `submission_field()` renders it (no id: a page may hold several forms)."""

    def __call__(self, field, **kwargs):
        return Markup(f'<input type="hidden" name="{escape(field.name)}" value="{escape(field._value())}">')


class Required:
    """A value is needed: empty, spaces only, None or an unticked box is missing; 0 counts as a value. A value typed
    but unreadable keeps the field's own message. Unlike DataRequired it sets no HTML `required` flag: the forms are
    `novalidate`, so people read the server's Spanish message."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        data = field.data
        if data is None or data is False or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message)


class OneTimeForm(BaseForm):
    """A form that creates or moves money or bookings: a fresh submission key on every render, claimed once."""

    # a label of its own: the default label is a WTForms gettext, which loads its catalogue on every render
    submission_key = HiddenField("Submission Key", default=new_submission_key, widget=SubmissionKeyInput())

    def renew_key(self) -> None:
        """The form shown again gets a new key, as every render does (a refused attempt's key was rolled back; a
        duplicate's was already claimed)."""
        self.submission_key.data = new_submission_key()


def submit(form: BaseForm, apply: Callable[[], object]) -> bool:
    """On POST: validate, then run `apply()` in one unit of work (after claiming the one-time key, if the form has
    one). True when it committed; False for a GET, an invalid form or a refusal (rolled back, on the form)."""
    if not form.is_submitted():
        return False
    if not form.validate():
        return False
    try:
        with unit_of_work():
            if isinstance(form, OneTimeForm):
                claim_submission(form.submission_key.data or "")
            form.result = apply()
    except DomainError as exc:
        form.attach(exc)
        return False
    return True


# --- template globals: a form's hidden inputs ----------------------------------------------------------------------


@pass_context
def csrf_field(context) -> Markup:
    """The CSRF input of a form, from the template's `csrf_token()` (Flask-WTF's; the board's rows cache renders a
    placeholder in its place). Rendered whether or not CSRF checking is on."""
    return Markup(f'<input name="csrf_token" type="hidden" value="{escape(context.resolve("csrf_token")())}">')


@pass_context
def hidden_fields(context, form: BaseForm) -> Markup:
    """A form's hidden inputs: the CSRF token and its hidden fields (the one-time key…), without ids — a page may
    hold several forms. Templates call it instead of `form.hidden_tag()`."""
    hidden = (str(field(id=False)) for field in form if field.type == "HiddenField")
    return csrf_field(context) + Markup("".join(hidden))


def init_form_globals(app) -> None:
    app.add_template_global(csrf_field, "csrf_field")
    app.add_template_global(hidden_fields, "hidden_fields")


# --- value fields: what a person types, read one way everywhere ----------------------------------------------------


class TextValueField(StringField):
    """A text input whose `data` is a parsed value (None when empty); a bad value is a field error."""

    invalid_message = NUMBER_INVALID

    def __init__(self, label=None, validators=None, *, message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        # not `message or …`: that translates a lazy message on every construction of the form (issue 20)
        empty = message is None or (isinstance(message, str) and not message)
        self.invalid_message = self.invalid_message if empty else message
        self.raw = ""

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "") or ""
        self.data = None
        if self.raw.strip():
            self.data = self.parse(self.raw.strip())

    def parse(self, text: str):  # pragma: no cover - each field defines it
        raise NotImplementedError

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return "" if self.data is None else self.format(self.data)

    def format(self, value) -> str:
        return str(value)


class ClpField(TextValueField):
    """An amount in CLP as people type it (`12.345`, `$12.345`, `12345`): an int."""

    invalid_message = AMOUNT_INVALID

    def parse(self, text: str) -> int:
        try:
            return parse_clp(text)
        except AmountTooLarge:
            raise ValueError(AMOUNT_TOO_LARGE) from None
        except ValueError:
            raise ValueError(self.invalid_message) from None


class IntField(TextValueField):
    """A whole number within [minimum, maximum] (ASCII digits only)."""

    def __init__(self, label=None, validators=None, *, minimum: int = 0, maximum: int = MAX_BIGINT, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def parse(self, text: str) -> int:
        value = parse_int(text, minimum=self.minimum, maximum=self.maximum)
        if value is None:
            raise ValueError(self.invalid_message)
        return value


class IdField(TextValueField):
    """The id of a row picked from a list (a select's value): a positive int32."""

    invalid_message = CHOICE_INVALID

    def parse(self, text: str) -> int:
        value = parse_id(text)
        if value is None:
            raise ValueError(self.invalid_message)
        return value


class DayField(TextValueField):
    """A date from `<input type="date">` (YYYY-MM-DD) or typed as DD/MM/YYYY."""

    invalid_message = DATE_INVALID

    def parse(self, text: str) -> date:
        for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise ValueError(self.invalid_message)

    def format(self, value) -> str:
        return value.isoformat()


class HhmmField(TextValueField):
    """A time of day as HH:MM (the slot grids' format)."""

    invalid_message = TIME_INVALID

    def parse(self, text: str) -> str:
        if not clock.is_hhmm(text):
            raise ValueError(self.invalid_message)
        return text
