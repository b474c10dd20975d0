"""Per-process cache of rendered page parts keyed by a data version (issue 20 §2): what a public page builds only
from slow-changing data (the catalogue's navigation and cards) is rendered once per version and language.

Parts that depend only on the code and the config (the layout's asset links and footer) use the constant version
`PROCESS`: rendered once per process and language.

The caller passes the version in force (read from the database in the request, e.g. `catalog_version()`), so every
gunicorn process sees a change on its next request; entries of an older version are dropped when a newer one is
first seen. Bounded: a key made from request input (a category id) cannot grow it without limit.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

MAX_ENTRIES = 512


class VersionedCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self.version: str | None = None
        self.entries: dict = {}

    def get(self, version: str, key):
        if version != self.version:
            return None
        return self.entries.get(key)

    def put(self, version: str, key, value):
        if version != self.version or len(self.entries) >= self.max_entries:
            self.entries = {}
            self.version = version
        self.entries[key] = value
        return value


def enabled() -> bool:
    return current_app.config.get("FRAGMENT_CACHE_ENABLED", True)


def cache_for(name: str) -> VersionedCache:
    """The app's cache called `name` (one per app, so test apps never share entries)."""
    caches = current_app.extensions.setdefault("fragment_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = VersionedCache()
    return cache


def cached_part(name: str, version: str, *key):
    """The part rendered earlier for (key, language) under `version`, or None."""
    if not enabled():
        return None
    return cache_for(name).get(version, (*key, str(get_locale())))


def keep_part(name: str, version: str, html, *key) -> Markup:
    """Store a rendered part (for this language) and return it."""
    html = Markup(html)
    if enabled():
        cache_for(name).put(version, (*key, str(get_locale())), html)
    return html


PROCESS = "process"  # the "version" of parts that only change with the code and the config (a new process)


def static_part(name: str, *key):
    """A part rendered earlier from the code and the config alone (the layout's asset links, its footer), for this
    language, or None."""
    return cached_part(name, PROCESS, *key)


def keep_static_part(name: str, html, *key) -> Markup:
    return keep_part(name, PROCESS, html, *key)


def cached_value(name: str, version: str, key, load):
    """A plain value (never ORM objects: they belong to one session) loaded once per version."""
    if not enabled():
        return load()
    cache = cache_for(name)
    hit = cache.get(version, key)
    if hit is None:
        hit = cache.put(version, key, (load(),))
    return hit[0]
