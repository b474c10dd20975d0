"""Merge duplicate clients keeping every piece of history (spec crm.md §8). Services flush, never commit.

Every foreign key to `clients.id` in the metadata is re-pointed to the survivor — orders, events, gift cards,
consent events, pending updates, suppressions, and tables other packages add later (message log, campaign targets,
contacts) without changes here. Where a unique constraint would collide (one row per client and campaign, one
contact per client…), the duplicate's row loses its `client_id` if that column is nullable, else it is dropped
(it duplicates a row the survivor already has). Preferences keep the most restrictive value of each switch.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from app.clients.models import CONSENT_FIELDS, Client, ClientMerge, ClientPreferences
from app.clients.services import EDITABLE_FIELDS, record_event, set_consents, update_client
from app.core.errors import ValidationError
from app.core.phone import normalize_phone
from app.extensions import db
from app.sales.client_stats_services import mark_clients
from app.sales.models import Order

SYSTEM = "sistema"
# Tests switch this off to show that without the locks two merges of one duplicate crash (negative control).
LOCKING_ENABLED = True
# Handled explicitly: preferences are combined, the merge log keeps pointing at survivors.
# client_stats is not history: the duplicate's row goes with it (cascade), the survivor's is recomputed
SPECIAL_TABLES = {"client_preferences", "client_stats"}


def _client_fk_columns() -> list[tuple[sa.Table, sa.Column]]:
    out = []
    for table in db.metadata.sorted_tables:
        if table.name in SPECIAL_TABLES:
            continue
        for column in table.columns:
            if any(fk.column.table.name == "clients" and fk.column.name == "id" for fk in column.foreign_keys):
                out.append((table, column))
    return out


def _unique_groups(table: sa.Table, column: sa.Column) -> list[list[sa.Column]]:
    """Unique constraints/indexes of `table` that include `column` (as column lists)."""
    groups = []
    if column.unique:
        groups.append([column])
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and column.name in constraint.columns:
            groups.append(list(constraint.columns))
    for index in table.indexes:
        if index.unique and column.name in index.columns:
            groups.append(list(index.columns))
    return groups


def _json_safe(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _snapshot(client: Client) -> dict:
    data = {key: _json_safe(getattr(client, key)) for key in EDITABLE_FIELDS}
    data.update(id=client.id, origin=client.origin, created_at=_json_safe(client.created_at))
    if client.preferences is not None:
        data["preferences"] = {f: getattr(client.preferences, f) for f in CONSENT_FIELDS}
    return data


def _move_rows(survivor_id: int, duplicate_id: int) -> dict[str, int]:
    moved: dict[str, int] = {}
    conn = db.session.connection()
    for table, column in _client_fk_columns():
        for group in _unique_groups(table, column):
            others = [c for c in group if c.name != column.name]
            kept = table.alias("kept")
            theirs = (
                sa.select(sa.literal(1))
                .select_from(kept)
                .where(*[kept.c[c.name] == c for c in others], kept.c[column.name] == survivor_id)
            )
            collide = [column == duplicate_id, sa.exists(theirs)]
            if column.nullable:
                conn.execute(table.update().where(*collide).values({column.name: None}))
            else:
                conn.execute(table.delete().where(*collide))
        n = conn.execute(table.update().where(column == duplicate_id).values({column.name: survivor_id})).rowcount
        if n:
            key = table.name if column.name == "client_id" else f"{table.name}.{column.name}"
            moved[key] = moved.get(key, 0) + n
    return moved


def _merge_preferences(survivor: Client, duplicate: Client, *, by) -> None:
    theirs = duplicate.preferences
    if theirs is None:
        return
    ours = survivor.preferences
    if ours is None:
        ours = ClientPreferences(client_id=survivor.id)
        db.session.add(ours)
        db.session.flush()
    restrictive = {f: False for f in CONSENT_FIELDS if getattr(ours, f) and not getattr(theirs, f)}
    if restrictive:
        set_consents(survivor, restrictive, source="merge", by=by)
    dates = [d for d in (ours.opt_out_date, theirs.opt_out_date) if d is not None]
    if dates:
        ours.opt_out_date = min(dates)


def lock_clients(client_ids) -> None:
    """Global lock order (sales.locks): first the clients' orders (the order locks, ascending id), then the
    client rows FOR UPDATE in ascending id, re-read. Two merges that share a client run one after the other, and the
    second finds the client the first deleted: a Spanish refusal instead of a crash. Payments and line changes of
    those orders wait for the merge, never the other way round (no deadlock)."""

    ids = sorted(set(client_ids))
    if not LOCKING_ENABLED or not ids:
        return
    db.session.execute(
        sa.select(Order.id).where(Order.client_id.in_(ids)).order_by(Order.id).with_for_update(key_share=True)
    ).all()
    found = {
        c.id
        for c in db.session.scalars(
            sa.select(Client)
            .where(Client.id.in_(ids))
            .order_by(Client.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    missing = [cid for cid in ids if cid not in found]
    if missing:
        raise ValidationError(
            f"El cliente #{missing[0]} ya no existe (¿fusionado en otra sesión?). Recargue la página."
        )


def merge_clients(survivor: Client, duplicates: list[Client], *, by=None) -> list[ClientMerge]:
    """Move every row of each duplicate to `survivor`, fill its empty fields, log a ClientMerge and a
    `client_merged` event, delete the duplicate. One transaction (the caller commits); flushes. Under the locks
    of `lock_clients`."""
    duplicates = [d for d in duplicates if d.id != survivor.id]
    if not duplicates:
        raise ValidationError("Elija al menos un cliente para fusionar con el sobreviviente.")
    lock_clients([survivor.id, *(d.id for d in duplicates)])
    by_label = getattr(by, "username", None) or SYSTEM
    merges = []
    for dup in duplicates:
        snapshot = _snapshot(dup)
        fill = {
            key: getattr(dup, key)
            for key in EDITABLE_FIELDS
            if key not in ("name", "phone")
            and getattr(survivor, key) in (None, "")
            and getattr(dup, key) not in (None, "")
        }
        _merge_preferences(survivor, dup, by=by)
        db.session.flush()
        moved = _move_rows(survivor.id, dup.id)
        mark_clients(survivor.id)  # the orders moved by UPDATE, past the ORM: recomputed before the next read
        db.session.expire_all()
        dup = db.session.get(Client, dup.id)
        survivor = db.session.get(Client, survivor.id)
        db.session.delete(dup)  # its preferences go with it; everything else now belongs to the survivor
        db.session.flush()
        if fill:
            update_client(survivor, data=fill, by=by)
        merge = ClientMerge(
            survivor_id=survivor.id,
            merged_client_id=snapshot["id"],
            snapshot=snapshot,
            moved=moved,
            by_id=getattr(by, "id", None),
            by_label=by_label,
        )
        db.session.add(merge)
        moved_text = ", ".join(f"{k}: {v}" for k, v in sorted(moved.items())) or "sin historial"
        record_event(
            survivor,
            "client_merged",
            f"Fusionado con #{snapshot['id']} {snapshot['name']} ({snapshot['phone']}); movido: {moved_text}",
            by=by,
            data={"merged_client_id": snapshot["id"], "moved": moved},
        )
        merges.append(merge)
    db.session.flush()
    return merges


def pick_survivor(client_ids: list[int]) -> int:
    """The client with most orders, then the lowest id."""

    counts = dict(
        db.session.execute(
            sa.select(Order.client_id, sa.func.count(Order.id))
            .where(Order.client_id.in_(client_ids))
            .group_by(Order.client_id)
        ).all()
    )
    return sorted(client_ids, key=lambda cid: (-counts.get(cid, 0), cid))[0]


# --- flask normalize-and-merge-clients -------------------------------------------------------------------------


def normalize_and_merge(*, dry_run: bool = False, echo=print) -> dict[str, list]:
    """Phase 1: canonical phones (invalid ones reported and left alone; free canonical numbers written; taken ones
    grouped). Phase 2: merge each group into the client with most orders (then lowest id), by `sistema`, one
    transaction per group. With `dry_run` the same work runs inside one transaction that is rolled back."""

    commit = db.session.flush if dry_run else db.session.commit
    rows = db.session.execute(sa.select(Client.id, Client.phone).order_by(Client.id)).all()
    owner = {phone: cid for cid, phone in rows}
    report: dict[str, list] = {"normalized": [], "invalid": [], "merged": []}
    groups: dict[str, list[int]] = {}
    for cid, phone in rows:
        try:
            canonical = normalize_phone(phone)
        except ValidationError:
            report["invalid"].append((cid, phone))
            continue
        if canonical == phone:
            continue
        holder = owner.get(canonical)
        if holder is None:
            db.session.execute(sa.update(Client).where(Client.id == cid).values(phone=canonical))
            owner.pop(phone, None)
            owner[canonical] = cid
            report["normalized"].append((cid, phone, canonical))
        else:
            groups.setdefault(canonical, [holder])
            if cid not in groups[canonical]:
                groups[canonical].append(cid)
    commit()
    for canonical, ids in groups.items():
        survivor_id = pick_survivor(ids)
        survivor = db.session.get(Client, survivor_id)
        others = [db.session.get(Client, i) for i in ids if i != survivor_id]
        merge_clients(survivor, others, by=None)
        if survivor.phone != canonical:
            db.session.flush()
            survivor.phone = canonical
        commit()
        report["merged"].append((canonical, survivor_id, [i for i in ids if i != survivor_id]))
    if dry_run:
        db.session.rollback()
    prefix = "[DRY-RUN] " if dry_run else ""
    echo(f"{prefix}Teléfonos normalizados: {len(report['normalized'])}")
    for cid, old, new in report["normalized"]:
        echo(f"{prefix}  #{cid}: {old} → {new}")
    echo(f"{prefix}Teléfonos inválidos (sin cambios): {len(report['invalid'])}")
    for cid, phone in report["invalid"]:
        echo(f"{prefix}  #{cid}: {phone}")
    echo(f"{prefix}Grupos fusionados: {len(report['merged'])}")
    for canonical, survivor_id, merged in report["merged"]:
        echo(f"{prefix}  {canonical}: #{survivor_id} ← {', '.join(f'#{i}' for i in merged)}")
    return report
