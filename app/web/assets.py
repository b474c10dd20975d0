"""Static files through WhiteNoise (docs/OPERATIONS.md "Static files"; UX review D21, D24).

`url_for('static', filename='css/app.css')` gives `/static/css/app.<12 hex of sha256>.css`: a changed file gets a new
URL, served with a one-year immutable cache. The plain name (an old link, a bookmark, a file that asks for a sibling)
still answers, with a one-hour cache. WhiteNoise serves both before Flask, with the `.br`/`.gz` variants written at
image build time (`python -m whitenoise.compress app/static`, Dockerfile) when the client accepts them. HTML is never
cached publicly. The favicon answers at /favicon.ico.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response
from whitenoise import WhiteNoise

YEAR = 31536000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
SHORT_SECONDS = 3600  # a static file asked for by its plain name
HTML = "no-cache, private"
COMPRESSED_SUFFIXES = (".gz", ".br")


def hashed_name(filename: str, digest: str) -> str:
    """`css/app.css` -> `css/app.<digest>.css`, before the last extension (`htmx-2.0.8.min.<digest>.js`)."""
    head, tail = os.path.split(filename)
    stem, dot, ext = tail.rpartition(".")
    stem, ext = (stem, ext) if dot else (tail, "")
    tail = f"{stem}.{digest}{dot}{ext}" if dot else f"{tail}.{digest}"
    return f"{head}/{tail}" if head else tail


def fingerprints(static_folder: str) -> dict[str, str]:
    """`{filename: hashed filename}` for every file under static/ (not the compressed variants), computed once."""
    names = {}
    for root, _dirs, files in os.walk(static_folder):
        for name in files:
            if name.endswith(COMPRESSED_SUFFIXES):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()[:12]
            filename = os.path.relpath(path, static_folder).replace(os.sep, "/")
            names[filename] = hashed_name(filename, digest)
    return names


class StaticFiles(WhiteNoise):
    """WhiteNoise with a one-year "forever" (its default is ten) and `nosniff` on every file."""

    FOREVER = YEAR

    def __init__(self, application, static_folder: str, url_prefix: str, names: dict[str, str]):
        self.immutable_urls = {f"{url_prefix}/{hashed}" for hashed in names.values()}
        super().__init__(
            application,
            max_age=SHORT_SECONDS,
            immutable_file_test=lambda _path, url: url in self.immutable_urls,
            add_headers_function=lambda headers, _path, _url: headers.__setitem__("X-Content-Type-Options", "nosniff"),
        )
        self.add_files(static_folder, prefix=f"{url_prefix}/")  # plain names: one hour
        stat_cache = None
        for filename, hashed in names.items():
            self.add_file_to_dictionary(f"{url_prefix}/{hashed}", os.path.join(static_folder, filename), stat_cache)


def init_assets(app: Flask) -> None:
    names = fingerprints(app.static_folder)
    app.extensions["static_fingerprints"] = names
    app.wsgi_app = StaticFiles(app.wsgi_app, app.static_folder, app.static_url_path, names)

    @app.url_defaults
    def _fingerprint(endpoint, values):
        """url_for('static', filename=...) -> /static/<hashed name>: a new file gets a new URL."""
        if endpoint == "static":
            hashed = names.get(values.get("filename", ""))
            if hashed:
                values["filename"] = hashed

    with open(os.path.join(app.static_folder, "icons", "favicon.ico"), "rb") as fh:
        favicon_bytes = fh.read()

    @app.get("/favicon.ico")
    def favicon():  # browsers ask for it on every site, whatever the page links
        return Response(
            favicon_bytes, mimetype="image/vnd.microsoft.icon", headers={"Cache-Control": "public, max-age=86400"}
        )

    favicon._public = True  # read by the access-matrix test

    @app.after_request
    def _cache_headers(response):
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = HTML
        return response
