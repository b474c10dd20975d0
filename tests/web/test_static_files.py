"""Static files through WhiteNoise (docs/OPERATIONS.md "Static files"): hashed names cached for a year, the plain
name for an hour, Brotli/gzip variants (written at image build time) chosen by Accept-Encoding."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from werkzeug.test import Client

from app.web.assets import StaticFiles, fingerprints, hashed_name

ROOT = Path(__file__).resolve().parents[2]


def test_hashed_name_goes_before_the_last_extension():
    assert hashed_name("css/app.css", "0123456789ab") == "css/app.0123456789ab.css"
    assert hashed_name("vendor/htmx-2.0.8.min.js", "0123456789ab") == "vendor/htmx-2.0.8.min.0123456789ab.js"
    assert hashed_name("LICENSE", "0123456789ab") == "LICENSE.0123456789ab"


def test_compressed_variants_served_by_accept_encoding(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "app" / "static", static)
    subprocess.run([sys.executable, "-m", "whitenoise.compress", "-q", str(static)], check=True)
    assert (static / "css" / "app.css.br").exists() and (static / "css" / "app.css.gz").exists()
    names = fingerprints(str(static))
    assert "css/app.css.gz" not in names and "css/app.css.br" not in names
    app = StaticFiles(lambda e, sr: (sr("404 Not Found", []), [b""])[1], str(static), "/static", names)
    client = Client(app)
    url = "/static/" + names["css/app.css"]
    plain = (static / "css" / "app.css").read_bytes()
    for encoding, expected in (("br", "br"), ("gzip", "gzip"), ("br, gzip", "br"), ("identity", None)):
        resp = client.get(url, headers={"Accept-Encoding": encoding})
        assert resp.status_code == 200
        assert resp.headers.get("Content-Encoding") == expected, encoding
        assert resp.headers["Cache-Control"] == "max-age=31536000, public, immutable"
        assert "Accept-Encoding" in resp.headers["Vary"]
        if expected is None:
            assert resp.data == plain
        else:
            assert len(resp.data) < len(plain)
        resp.close()
    resp = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip" and resp.headers["Cache-Control"] == "max-age=3600, public"
    resp.close()


def test_image_compresses_the_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"python -m whitenoise\.compress\b.*app/static", dockerfile)
