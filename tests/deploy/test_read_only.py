"""The image runs on a read-only root filesystem (spec deployment.md §3), checked without Docker: in a private
mount namespace the code and the virtualenv are remounted read-only, and the entry point's `migrate`, `web` and a
scheduler command still work, writing only under /tmp (and MEDIA_ROOT)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.deploy.test_entrypoint import ENTRYPOINT, ROOT
from tests.deploy.test_scale_out import free_port

SCRIPT = r"""
set -eu
mount --bind -o ro "$ROOT" "$ROOT"
mount --bind -o ro "$VENV" "$VENV"
if touch "$ROOT/.write-probe" 2>/dev/null; then echo "code is writable"; exit 3; fi
cd "$ROOT"
sh "$ENTRYPOINT" migrate
sh "$ENTRYPOINT" flask scheduler list
sh "$ENTRYPOINT" web &
WEB=$!
"$PYTHON" - <<'PY'
import os, time, urllib.request
base = "http://127.0.0.1:%s" % os.environ["PORT"]
get = lambda path: urllib.request.urlopen(urllib.request.Request(base + path, headers={"Host": "localhost"}),
                                          timeout=10)
for _ in range(300):
    try:
        get("/readyz")
        break
    except OSError:
        time.sleep(0.2)
for path in ("/healthz", "/readyz", "/accounts/login/", "/static/css/app.css"):
    with get(path) as response:
        assert response.status == 200, path
print("web ok")
PY
"$PYTHON" -c "$HEALTHCHECK_PY" && echo "image healthcheck ok"
kill "$WEB"
wait "$WEB" || true
"""


def image_healthcheck() -> str:
    """The Python code of the Dockerfile's HEALTHCHECK."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return re.search(r'HEALTHCHECK .*CMD python -c "([^"]+)"', text).group(1)


def test_entrypoint_runs_with_code_and_packages_read_only(tmp_path, empty_database_url):
    venv = Path(sys.prefix).resolve()
    media = tmp_path / "media"
    media.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": "/tmp",
        "FLASK_APP": "wsgi.py",
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_ENV": "production",
        "SECRET_KEY": "solo-lectura-clave-9f8e7d6c5b4a3921",
        "DATABASE_URL": empty_database_url,
        "MEDIA_ROOT": str(media),
        "IMPORT_DIR": str(tmp_path / "imports"),
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "ADMIN_USERNAME": "jefa",
        "ADMIN_EMAIL": "jefa@example.com",
        "ADMIN_PASSWORD": "clave-admin-larga",
        "ROOT": str(ROOT),
        "VENV": str(venv),
        "ENTRYPOINT": str(ENTRYPOINT),
        "PYTHON": sys.executable,
        "TRUSTED_HOSTS": "reservas.example.cl,localhost",
        "HEALTHCHECK_PY": image_healthcheck(),
    }
    out = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Administrador «jefa» creado." in out.stdout
    assert "expire_cart_holds" in out.stdout and "web ok" in out.stdout and "image healthcheck ok" in out.stdout
    assert "solo-lectura-clave-9f8e7d6c5b4a3921" not in out.stdout + out.stderr
