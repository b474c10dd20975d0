"""The English catalogue is complete and compiled (docs/I18N.md): every string wrapped for translation in the code
and templates has a non-fuzzy English msgstr, and the committed .mo says what its .po says (`make translations`)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "pgettext": ((1, "c"), 2),
    "Msg": None,  # app.core.errors.Msg: a Spanish refusal built with values, translated on visitor pages
    "N_": None,
}


def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def _extracted() -> dict[str, str]:
    """msgid → where it is used, straight from the sources (what `pybabel extract -F babel.cfg` finds)."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural's key is its singular
        if msgid:
            found.setdefault(msgid, filename)
    return found


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_wrapped_string_has_an_english_translation():
    catalog = _catalog("en")
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        strings = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        if all(s.strip() for s in strings) and not message.fuzzy:
            translated[_key(message)] = strings
    extracted = _extracted()
    assert len(extracted) > 200  # the extraction itself works (the customer pages are wrapped)
    missing = {msgid: where for msgid, where in extracted.items() if msgid not in translated}
    assert not missing, f"no English msgstr (run `make translations` and fill in messages.po): {missing}"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
    for message in _catalog("en"):
        if not message.id or not message.string:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        names = {m.group(0) for i in ids for m in pattern.finditer(i)}
        for s in strings:
            assert {m.group(0) for m in pattern.finditer(s)} <= names, (message.id, s)
            assert names <= {m.group(0) for m in pattern.finditer(s)} | {"%(num)d"}, (message.id, s)


def _plain(value):
    return value if isinstance(value, str) else tuple(value)


def test_compiled_catalogue_matches_its_source():
    """A .po edited without `make translations` (its .mo stale or missing) fails here."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} missing: run `make translations`"
        with open(po_path, "rb") as fh:
            po = {_plain(m.id): _plain(m.string) for m in read_po(fh) if m.id and m.string and not m.fuzzy}
        with open(mo_path, "rb") as fh:
            mo = {_plain(m.id): _plain(m.string) for m in read_mo(fh) if m.id}
        assert po == mo, f"{mo_path} is older than {po_path.name}: run `make translations`"
