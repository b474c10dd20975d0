"""The client screens' forms (spec crm.md §7, §8): the import upload, its confirm/discard, the merge.

The upload's limits (extension, size, rows, time) and their messages stay in app.clients.import_services; the form
only asks for a file.
"""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField, ValidationError

from app.web.forms import BaseForm
from app.web.params import parse_id

NO_FILE = "Seleccione un archivo .xlsx."
NO_SURVIVOR = "Elija el cliente que se conserva."
MAX_MERGE = 10


class ClientImportForm(BaseForm):
    archivo = FileField("Archivo .xlsx", validators=[FileRequired(NO_FILE)])
    consentimiento_marketing = StringField("Consentimiento de marketing para clientes nuevos")

    @property
    def marketing(self) -> bool:
        """New clients get marketing consent (the select's `si`; `1`/`on` from older forms)."""
        return self.consentimiento_marketing.data in ("si", "1", "on")


class ClientImportActionForm(BaseForm):
    """Confirm or discard a previewed import: a one-click POST, the CSRF token only."""


def merge_ids(raw: str | None) -> list[int]:
    """`12,45` → [12, 45]: distinct valid ids, at most ten."""
    ids: list[int] = []
    for part in (raw or "").replace(" ", "").split(","):
        value = parse_id(part)
        if value and value not in ids:
            ids.append(value)
    return ids[:MAX_MERGE]


class ClientMergeForm(BaseForm):
    """The clients to merge (`ids`) and the one that is kept (`sobreviviente`, one of them)."""

    ids = HiddenField()
    sobreviviente = StringField("Se conserva")

    @property
    def client_ids(self) -> list[int]:
        return merge_ids(self.ids.data)

    @property
    def survivor_id(self) -> int | None:
        value = parse_id(self.sobreviviente.data or "")
        return value if value in self.client_ids else None

    def validate_sobreviviente(self, field) -> None:
        if self.survivor_id is None or len(self.client_ids) < 2:
            raise ValidationError(NO_SURVIVOR)
