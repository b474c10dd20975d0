#!/usr/bin/env bash
# The restore drill of .ci/run (docs/OPERATIONS.md "Backups and the restore drill"), against the CI's PostgreSQL:
#   1. a source database: every migration, then the demo journeys (`flask seed-demo`: clients, orders, payments,
#      messages), unless RESTORE_SOURCE_DB names an existing one;
#   2. `pg_dump --format=custom` of it (as the chart's backup CronJob does), restored with `pg_restore` into a fresh
#      database;
#   3. on the restored copy: the migration head is the code's (`flask db upgrade` has nothing to do), every table has
#      the source's row count, and /readyz answers 200.
# Databases: RESTORE_CHECK_DB (aremko_restore_check) and its _source; both dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
FLASK="$(dirname "$PY")/flask"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
TARGET="${RESTORE_CHECK_DB:-aremko_restore_check}"
SOURCE="${RESTORE_SOURCE_DB:-${TARGET}_source}"
DUMP="$(mktemp /tmp/aremko-restore.XXXXXX.dump)"
SECONDS=0
url() { echo "postgresql://$PGUSER@$PGHOST:$PGPORT/$1"; }
cleanup() {
  rm -f "$DUMP"
  dropdb --if-exists "$TARGET" >/dev/null 2>&1 || true
  [ -n "${RESTORE_SOURCE_DB:-}" ] || dropdb --if-exists "$SOURCE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export APP_ENV=development FLASK_APP=wsgi.py SCHEDULER_ENABLED=false

if [ -z "${RESTORE_SOURCE_DB:-}" ]; then
  echo "== restore check: source database $SOURCE (migrations + demo journeys)"
  dropdb --if-exists "$SOURCE" >/dev/null 2>&1
  createdb "$SOURCE"
  DATABASE_URL="$(url "$SOURCE")" "$FLASK" db upgrade >/dev/null 2>&1
  DATABASE_URL="$(url "$SOURCE")" "$FLASK" seed-demo >/dev/null
fi
echo "== restore check: pg_dump $SOURCE"
pg_dump --format=custom --no-owner --no-privileges --file "$DUMP" "$SOURCE"
echo "dump: $(du -h "$DUMP" | cut -f1)"
echo "== restore check: pg_restore into a fresh $TARGET"
dropdb --if-exists "$TARGET" >/dev/null 2>&1
createdb "$TARGET"
pg_restore --no-owner --no-privileges --exit-on-error --dbname "$TARGET" "$DUMP"

SOURCE_URL="$(url "$SOURCE")" TARGET_URL="$(url "$TARGET")" "$PY" - <<'PY'
import os
import sys

import sqlalchemy as sa

source = sa.create_engine(os.environ["SOURCE_URL"])
target = sa.create_engine(os.environ["TARGET_URL"])


def counts(engine):
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in sorted(tables)}


src, dst = counts(source), counts(target)
diff = {t: (src.get(t), dst.get(t)) for t in set(src) | set(dst) if src.get(t) != dst.get(t)}
if diff:
    sys.exit(f"row counts differ (source, restored): {diff}")
print(f"row counts equal in all {len(src)} tables ({sum(src.values())} rows; "
      f"{', '.join(f'{t} {n}' for t, n in sorted(src.items(), key=lambda i: -i[1])[:5])}, ...)")

os.environ.update(DATABASE_URL=os.environ["TARGET_URL"], APP_ENV="development")
from app import create_app  # noqa: E402
from app.web.health_views import migration_heads  # noqa: E402

app = create_app()
heads, _ = migration_heads(app)
with target.connect() as conn:
    current = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
if current != set(heads):
    sys.exit(f"restored migration revision {current} is not the code's head {set(heads)}")
resp = app.test_client().get("/readyz", headers={"Host": "localhost"})
if resp.status_code != 200:
    sys.exit(f"/readyz on the restored database: {resp.status_code} {resp.get_data(as_text=True)}")
print(f"migration head {sorted(current)} = code; /readyz 200 on the restored database: {resp.get_json()}")
PY
DATABASE_URL="$(url "$TARGET")" "$FLASK" db upgrade 2>&1 | grep -q "Running upgrade" && {
  echo "restore check: the restored database needed migrations" >&2
  exit 1
}
echo "== restore check passed in ${SECONDS} s"
