"""Client import from .xlsx (spec crm.md §7): read, validate and match every row, preview, then apply.

`plan_rows(path)` reads the stored file in streaming mode and yields one `RowPlan` per data row, looking clients up
in chunks of 500 rows (four IN queries per chunk, never one per row). The preview only counts and shows plans;
`apply_import` walks the same plans and writes them through the client services, so preview and result agree and
a second run of the same file finds nothing to change.
"""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from app.clients.models import MARKETING_FIELDS, Client, ClientImport, ClientPreferences
from app.clients.services import create_client, set_consents, update_client
from app.core import clock
from app.core.db import lock_and_reload
from app.core.errors import ValidationError
from app.core.identity import normalize_document, normalize_email
from app.core.phone import normalize_phone
from app.extensions import db

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
CHUNK = 500
PREVIEW_LIMIT = 200
NOT_XLSX = "El archivo no es un Excel .xlsx válido."
EMPTY = "El archivo está vacío."
TOO_BIG = "El archivo supera 20 MB."
TOO_MANY = "El archivo supera 50.000 filas."
# The archive is checked before openpyxl opens it (a few hundred KB can inflate to GB of XML); each limit can be
# overridden in the app config (IMPORT_MAX_ENTRIES, IMPORT_MAX_ENTRY_BYTES, IMPORT_MAX_UNCOMPRESSED_BYTES,
# IMPORT_TIME_LIMIT_SECONDS, IMPORT_MAX_ROWS).
MAX_ENTRIES = 1_000
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
TIME_LIMIT_SECONDS = 30.0
TOO_BIG_UNCOMPRESSED = (
    "El archivo descomprimido es demasiado grande (máximo 100 MB); revise que no tenga hojas o filas de más."
)
TOO_MANY_ENTRIES = "El archivo tiene demasiadas partes internas; no parece un Excel de clientes."
TOO_SLOW = "El archivo tardó demasiado en procesarse; divídalo en archivos más pequeños."

# header (folded: lower-case, no accents, single spaces) -> field
HEADERS = {
    "id": "id",
    "id cliente": "id",
    "documento identidad": "document_id",
    "documento de identidad": "document_id",
    "documento_identidad": "document_id",
    "documento": "document_id",
    "rut": "document_id",
    "nombre": "name",
    "nombre completo": "name",
    "telefono": "phone",
    "celular": "phone",
    "email": "email",
    "e-mail": "email",
    "correo": "email",
    "correo electronico": "email",
    "ciudad": "city",
    "pais": "country",
    "fecha nacimiento": "birth_date",
    "fecha de nacimiento": "birth_date",
    "fecha_nacimiento": "birth_date",
    "acepta marketing": "marketing",
}
FALLBACK_ORDER = ("document_id", "name", "phone", "email", "city")  # the original's column order, no header
FIELD_LABELS = {
    "name": "Nombre",
    "phone": "Teléfono",
    "email": "Email",
    "document_id": "Documento",
    "city": "Ciudad",
    "country": "País",
    "birth_date": "Fecha Nacimiento",
    "marketing": "Marketing",
}
ACTION_LABELS = {"nuevo": "Nuevo", "actualizado": "Actualizado", "sin_cambios": "Sin cambios", "error": "Error"}
YES = {"si", "s", "yes", "y", "1", "true", "verdadero", "x"}
NO = {"no", "n", "0", "false", "falso"}


class ImportFileError(ValidationError):
    """The upload as a whole cannot be read (shown above the form, 422)."""


def _fold(value) -> str:
    text = " ".join(str(value or "").replace("_", " ").split()).lower()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


# --- reading -----------------------------------------------------------------------------------------------------


def store_upload(stream, filename: str) -> tuple[str, str]:
    """Copy the upload under IMPORT_DIR (max 20 MB); returns (stored name, sha256)."""
    directory = current_app.config["IMPORT_DIR"]
    os.makedirs(directory, exist_ok=True)
    stored = f"{uuid.uuid4().hex}.xlsx"
    path = os.path.join(directory, stored)
    digest, size = hashlib.sha256(), 0
    with open(path, "wb") as out:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > MAX_BYTES:
                out.close()
                os.unlink(path)
                raise ImportFileError(TOO_BIG, field="archivo")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        os.unlink(path)
        raise ImportFileError(EMPTY, field="archivo")
    return stored, digest.hexdigest()


def stored_path(stored_name: str) -> str:
    return os.path.join(current_app.config["IMPORT_DIR"], stored_name)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(64 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def file_matches(record: ClientImport) -> bool:
    """The stored upload still exists and is the file that was previewed."""
    path = stored_path(record.stored_name)
    return os.path.exists(path) and file_sha256(path) == record.sha256


def _limit(name: str, default):
    return current_app.config.get(name, default)


def check_archive(path: str) -> None:
    """Refuse zip bombs before parsing: entry count, each entry's and the total uncompressed size.

    The sizes are the declared ones (ZipInfo.file_size); zipfile never inflates an entry beyond its declared size,
    so openpyxl cannot read more than what is checked here.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(NOT_XLSX, field="archivo") from exc
    if len(entries) > _limit("IMPORT_MAX_ENTRIES", MAX_ENTRIES):
        raise ImportFileError(TOO_MANY_ENTRIES, field="archivo")
    per_entry = _limit("IMPORT_MAX_ENTRY_BYTES", MAX_ENTRY_BYTES)
    total = 0
    for info in entries:
        total += info.file_size
        if info.file_size > per_entry or total > _limit("IMPORT_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES):
            raise ImportFileError(TOO_BIG_UNCOMPRESSED, field="archivo")


def read_rows(path: str, *, timed: bool = True) -> Iterator[tuple[int, dict]]:
    """(row number, {field: raw value}) for every non-empty data row; ImportFileError for unreadable files.

    Every sheet row counts toward the row cap, empty or not, and with `timed` the whole read (with whatever the
    caller does between rows: the preview's lookups) has a wall-clock budget. Applying an import that was already
    previewed is not timed: its writes may take longer, and the file passed the preview's budget.
    """
    from openpyxl import load_workbook

    check_archive(path)
    max_rows = _limit("IMPORT_MAX_ROWS", MAX_ROWS)
    deadline = time.monotonic() + _limit("IMPORT_TIME_LIMIT_SECONDS", TIME_LIMIT_SECONDS) if timed else None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML or format errors: the file is not a usable .xlsx
        raise ImportFileError(NOT_XLSX, field="archivo") from exc
    rows = iter(())
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        rows = ws.iter_rows(values_only=True) if ws is not None else rows
        first = next(rows, None)
        if first is None:
            raise ImportFileError(EMPTY, field="archivo")
        columns = {i: HEADERS[_fold(h)] for i, h in enumerate(first) if _fold(h) in HEADERS}
        start = 2
        if not columns:  # no header: the original's column order, row 1 is data
            columns = dict(enumerate(FALLBACK_ORDER))
            rows = _chain(first, rows)
            start = 1
        seen = 0
        for number, values in enumerate(rows, start=start):
            if number - start >= max_rows:  # empty rows count too
                raise ImportFileError(TOO_MANY, field="archivo")
            if deadline is not None and time.monotonic() > deadline:
                raise ImportFileError(TOO_SLOW, field="archivo")
            if values is None or all(v is None or _text(v) == "" for v in values):
                continue
            seen += 1
            yield number, {f: values[i] if i < len(values) else None for i, f in columns.items()}
        if seen == 0:
            raise ImportFileError(EMPTY, field="archivo")
    except ImportFileError:
        raise
    except Exception as exc:  # a broken sheet inside a valid zip
        raise ImportFileError(NOT_XLSX, field="archivo") from exc
    finally:
        # The sheet's reader holds an entry of the archive open until it is closed: close it now, or the file is
        # only closed (with a ResourceWarning) whenever the garbage collector gets to an abandoned generator.
        if hasattr(rows, "close"):
            rows.close()
        wb.close()


def _chain(first, rest):
    yield first
    yield from rest


# --- validation and matching -------------------------------------------------------------------------------------


@dataclass
class RowPlan:
    row: int
    raw: dict
    action: str = "error"  # nuevo | actualizado | sin_cambios | error
    client_id: int | None = None
    name: str = ""
    data: dict = field(default_factory=dict)  # cleaned values to write (new) or changed values (update)
    changes: dict = field(default_factory=dict)  # field -> (old, new) for updates
    marketing: bool | None = None  # consent to set (None = leave)
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "; ".join(([self.error] if self.error else []) + self.warnings)

    @property
    def change_text(self) -> str:
        parts = [f"{FIELD_LABELS[k]}: {_show(old)} → {_show(new)}" for k, (old, new) in self.changes.items()]
        return ", ".join(parts)


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _birth_date(value) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = _text(value)
        day = None
        for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
            try:
                day = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            raise ValidationError("Fecha de nacimiento inválida")
    if not date(1900, 1, 1) <= day <= clock.today():
        raise ValidationError("Fecha de nacimiento fuera de rango")
    return day


def _clean(plan: RowPlan) -> None:
    """Required fields make an error; optional bad fields a warning (the row is imported without them)."""
    raw = plan.raw
    plan.name = _text(raw.get("name"))[:100]
    if not plan.name:
        plan.error = "Nombre obligatorio"
        return
    try:
        plan.data["phone"] = normalize_phone(_text(raw.get("phone")))
    except ValidationError as exc:
        plan.error = exc.message
        return
    plan.data["name"] = plan.name
    for key, fn, warning in (
        ("email", normalize_email, "E-mail inválido"),
        ("document_id", normalize_document, "RUT inválido"),
        ("birth_date", _birth_date, None),
    ):
        value = raw.get(key)
        if value is None or _text(value) == "":
            continue
        try:
            plan.data[key] = fn(value) if key == "birth_date" else fn(_text(value))
        except ValidationError as exc:
            plan.warnings.append(f"{warning or exc.message} («{_text(value)}»): no se importó")
    for key in ("city", "country"):
        if _text(raw.get(key)):
            plan.data[key] = _text(raw.get(key))[: 100 if key == "city" else 60]
    marketing = _fold(raw.get("marketing"))
    if marketing in YES:
        plan.marketing = True
    elif marketing in NO:
        plan.marketing = False
    raw_id = _text(raw.get("id"))
    if raw_id:
        if not (raw_id.isascii() and raw_id.isdigit()) or int(raw_id) > 2**31 - 1:
            plan.error = f"ID inválido: «{raw_id}»"
        else:
            plan.data["id"] = int(raw_id)


CLIENT_COLUMNS = (
    Client.id,
    Client.name,
    Client.phone,
    Client.email,
    Client.document_id,
    Client.city,
    Client.country,
    Client.birth_date,
)


def _lookup(plans: list[RowPlan]) -> tuple[dict, dict, dict, dict, dict, dict]:
    """Clients (and marketing state) for the keys of one chunk: four IN queries plus one for preferences."""
    ids = {p.data["id"] for p in plans if "id" in p.data}
    docs = {p.data["document_id"] for p in plans if "document_id" in p.data}
    phones = {p.data["phone"] for p in plans if "phone" in p.data}
    emails = {p.data["email"] for p in plans if "email" in p.data}
    rows: dict[int, sa.Row] = {}
    by_doc: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    by_email: dict[str, int] = {}
    for column, keys in ((Client.id, ids), (Client.document_id, docs), (Client.phone, phones), (Client.email, emails)):
        if not keys:
            continue
        for r in db.session.execute(sa.select(*CLIENT_COLUMNS).where(column.in_(keys)).order_by(Client.id)):
            rows[r.id] = r
            if r.document_id in docs:
                by_doc.setdefault(r.document_id, r.id)
            if r.phone in phones:
                by_phone[r.phone] = r.id
            if r.email in emails:
                by_email.setdefault(r.email, r.id)
    prefs = {}
    if rows:
        prefs = {
            r.client_id: r
            for r in db.session.execute(
                sa.select(
                    ClientPreferences.client_id,
                    ClientPreferences.opt_out_date,
                    *[getattr(ClientPreferences, f) for f in MARKETING_FIELDS],
                ).where(ClientPreferences.client_id.in_(list(rows)))
            )
        }
    return rows, {i: i for i in ids if i in rows}, by_doc, by_phone, by_email, prefs


def _match(plans: list[RowPlan], *, new_marketing: bool) -> None:
    rows, by_id, by_doc, by_phone, by_email, prefs = _lookup([p for p in plans if not p.error])
    for p in plans:
        if p.error:
            continue
        if "id" in p.data and p.data["id"] not in by_id:
            p.error = f"El cliente #{p.data['id']} no existe"
            continue
        keys = [
            ("el ID", by_id.get(p.data.get("id"))),
            ("el documento", by_doc.get(p.data.get("document_id"))),
            ("el teléfono", by_phone.get(p.data["phone"])),
        ]
        found = [(label, cid) for label, cid in keys if cid is not None]
        if len({cid for _, cid in found}) > 1:
            (la, a), (lb, b) = found[0], next(f for f in found if f[1] != found[0][1])
            p.error = f"Conflicto: {la} coincide con el cliente #{a} y {lb} con el cliente #{b}"
            continue
        target = found[0][1] if found else by_email.get(p.data.get("email"))
        p.data.pop("id", None)
        if target is None:
            p.action = "nuevo"
            p.marketing = new_marketing if p.marketing is None else p.marketing
            continue
        current = rows[target]
        p.client_id = target
        for key, new in list(p.data.items()):
            old = getattr(current, key)
            if old != new:
                p.changes[key] = (old, new)
        p.data = {k: new for k, (_old, new) in p.changes.items()}
        pref = prefs.get(target)
        if p.marketing is not None and pref is not None:
            has = (
                all(getattr(pref, f) for f in MARKETING_FIELDS)
                if p.marketing
                else any(getattr(pref, f) for f in MARKETING_FIELDS)
            )
            opted_out = pref.opt_out_date is not None
            if p.marketing and (has or opted_out):  # never re-enable after an opt-out (crm.md §5)
                p.marketing = None
            elif not p.marketing and not has:
                p.marketing = None
            else:
                p.changes["marketing"] = (not p.marketing, p.marketing)
        else:
            p.marketing = None
        p.action = "actualizado" if p.changes else "sin_cambios"


def plan_rows(path: str, *, new_marketing: bool, timed: bool = True) -> Iterator[RowPlan]:
    """Every data row validated and matched; chunks of 500 rows share their lookups."""
    seen_phones: dict[str, int] = {}
    chunk: list[RowPlan] = []

    def finish(plans):
        _match(plans, new_marketing=new_marketing)
        return plans

    for number, raw in read_rows(path, timed=timed):
        plan = RowPlan(row=number, raw=raw)
        _clean(plan)
        phone = plan.data.get("phone")
        if not plan.error and phone:
            if phone in seen_phones:
                plan.error = f"Teléfono repetido en la fila {seen_phones[phone]}"
            else:
                seen_phones[phone] = number
        chunk.append(plan)
        if len(chunk) == CHUNK:
            yield from finish(chunk)
            chunk = []
    if chunk:
        yield from finish(chunk)


# --- preview and apply -------------------------------------------------------------------------------------------


@dataclass
class Preview:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTION_LABELS, 0))
    shown: list[RowPlan] = field(default_factory=list)  # first 200 changes and errors
    warnings: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def preview(path: str, *, new_marketing: bool) -> Preview:
    result = Preview()
    for plan in plan_rows(path, new_marketing=new_marketing):
        result.counts[plan.action] += 1
        result.warnings += bool(plan.warnings)
        if (plan.action != "sin_cambios" or plan.warnings) and len(result.shown) < PREVIEW_LIMIT:
            result.shown.append(plan)
    return result


def problem_rows(path: str, *, new_marketing: bool) -> Iterator[tuple]:
    """Every row with an error or warning: its columns, then Fila and Error (the errors workbook)."""
    for plan in plan_rows(path, new_marketing=new_marketing):
        if plan.error or plan.warnings:
            raw = plan.raw
            yield (*[_text(raw.get(k)) or None for k in ERROR_COLUMNS], plan.row, plan.message)


ERROR_COLUMNS = ("id", "document_id", "name", "phone", "email", "city", "country", "birth_date", "marketing")
ERROR_HEADERS = [
    "ID",
    "Documento Identidad",
    "Nombre",
    "Teléfono",
    "Email",
    "Ciudad",
    "País",
    "Fecha Nacimiento",
    "Acepta Marketing",
    "Fila",
    "Error",
]


def create_import(stream, filename: str, *, marketing: bool, by) -> tuple[ClientImport, Preview]:
    """Store the upload and preview it (nothing but the ClientImport row is written); flushes."""
    stored, sha = store_upload(stream, filename)
    try:
        result = preview(stored_path(stored), new_marketing=marketing)
    except ImportFileError:
        os.unlink(stored_path(stored))
        raise
    record = ClientImport(
        filename=os.path.basename(filename or "clientes.xlsx")[:255],
        stored_name=stored,
        sha256=sha,
        uploaded_by_id=getattr(by, "id", None),
        marketing_consent=marketing,
        n_rows=result.total,
        n_new=result.counts["nuevo"],
        n_updated=result.counts["actualizado"],
        n_unchanged=result.counts["sin_cambios"],
        n_errors=result.counts["error"],
    )
    db.session.add(record)
    db.session.flush()
    return record, result


# Tests switch this off to show that without the row lock a double confirm applies the file twice.
LOCKING_ENABLED = True


def lock_import(record: ClientImport) -> ClientImport:
    """SELECT … FOR NO KEY UPDATE the import row and re-read it: a confirm and a second confirm (double click, two
    tabs) or a discard of the same import run one after the other, and the second sees the first's status."""
    if not LOCKING_ENABLED:
        return record
    return lock_and_reload(record)


def apply_import(record: ClientImport, *, by) -> dict[str, int]:
    """Re-read the stored file (checksum must match) and write every planned row; flushes every 500 rows.
    Under the import's row lock: applied once."""
    record = lock_import(record)
    if record.status != "preview":
        raise ValidationError("Esta importación ya fue aplicada o descartada.")
    path = stored_path(record.stored_name)
    if not file_matches(record):
        raise ValidationError("El archivo de la importación ya no está disponible o cambió; súbalo de nuevo.")
    counts = dict.fromkeys(ACTION_LABELS, 0)
    for plan in plan_rows(path, new_marketing=record.marketing_consent, timed=False):
        counts[plan.action] += 1
        if plan.action == "nuevo":
            create_client(
                data=plan.data, origin="import", marketing_consent=bool(plan.marketing), consent_source="import", by=by
            )
        elif plan.action == "actualizado":
            client = db.session.get(Client, plan.client_id)
            if plan.data:
                update_client(client, data=plan.data, by=by)
            if plan.marketing is not None:
                set_consents(client, dict.fromkeys(MARKETING_FIELDS, plan.marketing), source="import", by=by)
        if sum(counts.values()) % CHUNK == 0:
            db.session.flush()
    record.status = "aplicado"
    record.applied_at = clock.now()
    record.n_new, record.n_updated = counts["nuevo"], counts["actualizado"]
    record.n_unchanged, record.n_errors = counts["sin_cambios"], counts["error"]
    record.n_rows = sum(counts.values())
    db.session.flush()
    return counts


def remove_file(record: ClientImport) -> None:
    """Delete the stored upload (after the applying transaction committed)."""
    path = stored_path(record.stored_name)
    if os.path.exists(path):
        os.unlink(path)


def discard_import(record: ClientImport) -> None:
    record = lock_import(record)
    if record.status != "preview":
        raise ValidationError("Esta importación ya fue aplicada o descartada.")
    record.status = "descartado"
    db.session.flush()
