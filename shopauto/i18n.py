"""Translation catalogs without GNU gettext: collect the portal's msgids, merge them into
locale/<lang>/LC_MESSAGES/django.po, check completeness and compile .po → .mo (Babel).

Scope of "portal strings" (what every shipped language must translate):
- every template under templates/ (and <app>/templates/) except the Django admin's
  (templates/admin/ and <app>/templates/admin/): staff work in English;
- the Python strings of first-party apps, except staff/machine-only modules: admin.py
  (and admin/ packages), api.py (and api/ packages: ERP clients, English), migrations,
  management commands, demo.py, settings*.py, tests and benchmarks, and the apps in
  STAFF_ONLY_APPS (no portal page: the automation rules, webhooks and dashboard are the
  admin's, and their alerts go to staff, in English).
  Everything else (forms, views, exceptions, services, selectors, apps' nav labels,
  template tags) can reach a customer's page or email.
- In models.py only choice labels (TextChoices/IntegerChoices classes, shown by
  get_FOO_display on portal pages) and strings inside functions (runtime messages) count:
  field verbose names, help texts and Meta names label the admin's forms only (the
  portal has no ModelForm).
"""

from __future__ import annotations

import ast
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.utils.translation import to_locale
from django.utils.translation.template import templatize

DOMAIN = "django"
# Python call names that mark a string for translation (Django's and their lazy twins).
KEYWORDS = {
    "_": None, "gettext": None, "gettext_lazy": None, "gettext_noop": None,
    "ngettext": (1, 2), "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2), "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3), "npgettext_lazy": ((1, "c"), 2, 3),
}
SKIP_DIRS = {".venv", "venv", "node_modules", "migrations", "management", "tests", "bench", "locale", "static",
             "var", "__pycache__", ".git", "admin", "api"}
SKIP_FILES = {"admin.py", "api.py", "demo.py", "manage.py"}
STAFF_ONLY_APPS = {"automation"}


def translated_languages() -> list[str]:
    """Language codes with a catalog: every LANGUAGES entry except the source language."""
    return [code for code, _name in settings.LANGUAGES if code != "en"]


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def po_path(language: str) -> Path:
    return locale_dir() / to_locale(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass
class Message:
    msgid: str | tuple[str, str]
    context: str | None
    locations: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self):
        single = self.msgid[0] if isinstance(self.msgid, tuple) else self.msgid
        return (self.context, single)


def _first_party_roots(base: Path) -> list[Path]:
    return [base / path for path in sorted(os.listdir(base))
            if ((base / path / "apps.py").exists() or (base / path / "settings.py").exists())
            and path not in STAFF_ONLY_APPS]


def _python_files(base: Path):
    for root in _first_party_roots(base):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d != "templates")
            for name in sorted(filenames):
                if name.endswith(".py") and name not in SKIP_FILES and not name.startswith("settings"):
                    yield Path(dirpath) / name


def _template_files(base: Path):
    roots = [base / "templates"] + [root / "templates" for root in _first_party_roots(base)]
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            rel = Path(dirpath).relative_to(root)
            if rel.parts and rel.parts[0] == "admin":
                dirnames[:] = []
                continue
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".html", ".txt")):
                    yield Path(dirpath) / name


def _portal_lines_of_models(code: str) -> set[int]:
    """Lines of a models.py that can reach a customer: choices classes and function bodies."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(code)):
        portal = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
            isinstance(node, ast.ClassDef) and any(
                (getattr(base, "attr", None) or getattr(base, "id", "")).endswith("Choices") for base in node.bases))
        if portal:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _extract(code: str, path: str, into: dict, only_lines: set[int] | None = None):
    fileobj = io.BytesIO(code.encode("utf-8"))
    for lineno, message, _comments, context in extract("python", fileobj, keywords=KEYWORDS,
                                                        options={"encoding": "utf-8"}):
        if only_lines is not None and lineno not in only_lines:
            continue
        if isinstance(message, tuple):
            message = message[0] if len(message) == 1 else tuple(message[:2])
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        entry = Message(msgid=message, context=context)
        into.setdefault(entry.key, entry).locations.append((path, lineno))


def collect_messages(base: Path | None = None) -> dict:
    """{(context, msgid): Message} for every portal string in the source tree."""
    base = Path(base or settings.BASE_DIR)
    found: dict = {}
    for path in _python_files(base):
        code = path.read_text(encoding="utf-8")
        only = _portal_lines_of_models(code) if path.name == "models.py" else None
        _extract(code, str(path.relative_to(base)), found, only)
    for path in _template_files(base):
        source = path.read_text(encoding="utf-8")
        if "{%" not in source or "trans" not in source:
            continue
        _extract(templatize(source, origin=str(path)), str(path.relative_to(base)), found)
    return found


def read_catalog(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=to_locale(language), domain=DOMAIN, project="ShopAuto")
    with path.open("rb") as handle:
        return read_po(handle, locale=to_locale(language), domain=DOMAIN)


def write_catalog(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # No line numbers: moving code around must not rewrite every catalog.
    write_po(buffer, catalog, width=0, sort_output=False, include_previous=False, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def _is_translated(entry) -> bool:
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
    return bool(strings) and all(strings)


def missing_translations(messages: dict | None = None) -> dict[str, list[Message]]:
    """{language: [Message, ...]} of portal strings missing, empty or fuzzy in a catalog."""
    messages = collect_messages() if messages is None else messages
    missing = {}
    for language in translated_languages():
        catalog = read_catalog(language)
        gaps = [m for m in messages.values() if not _is_translated(catalog.get(m.key[1], context=m.context))]
        if gaps:
            missing[language] = gaps
    return missing


def update_catalogs(messages: dict | None = None) -> dict[str, int]:
    """Merge the collected msgids into every .po: new ones get an empty msgstr, known ones
    keep their translation (locations refreshed), vanished ones become obsolete (#~).
    Returns {language: new entries}."""
    messages = collect_messages() if messages is None else messages
    added = {}
    for language in translated_languages():
        old = read_catalog(language)
        # Keep the header dates: re-running the extraction must not touch unchanged catalogs.
        new = Catalog(locale=to_locale(language), domain=DOMAIN, project="ShopAuto", fuzzy=False,
                      charset="utf-8", creation_date=old.creation_date, revision_date=old.revision_date,
                      language_team=f"{language} <shop@example.com>", last_translator="ShopAuto")
        count = 0
        for message in messages.values():
            previous = old.get(message.key[1], context=message.context)
            if isinstance(message.msgid, tuple):
                string = previous.string if previous is not None and isinstance(previous.string, (tuple, list)) \
                    else ("",) * new.num_plurals
            else:
                string = previous.string if previous is not None and isinstance(previous.string, str) else ""
            flags = previous.flags if previous is not None else ()
            if previous is None:
                count += 1
            new.add(message.msgid, string, locations=message.locations, flags=flags, context=message.context)
        # Vanished msgids stay as #~ entries: a reworded string's old translation is at hand.
        for entry in [*old, *old.obsolete.values()]:
            if entry.id and (entry.context, entry.id if isinstance(entry.id, str) else entry.id[0]) not in messages:
                new.obsolete[entry.id] = entry
        write_catalog(language, new)
        added[language] = count
    return added


def compile_catalogs(*, force: bool = False) -> list[Path]:
    """Write a .mo next to every .po under LOCALE_PATHS that is newer than its .mo."""
    written = []
    for locale_path in settings.LOCALE_PATHS:
        for po in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as handle:
                catalog = read_po(handle)
            buffer = io.BytesIO()
            # Fuzzy entries are not trusted: gettext's msgfmt leaves them out too.
            write_mo(buffer, catalog, use_fuzzy=False)
            tmp = mo.with_suffix(".mo.tmp")
            tmp.write_bytes(buffer.getvalue())
            tmp.replace(mo)
            written.append(mo)
    return written


def reset_translation_cache() -> None:
    """Forget loaded catalogs so freshly compiled .mo files are used (tests, runserver)."""
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()
    trans_real.translation_catalog_exists.cache_clear()


def json_key(message: Message) -> str:
    single = message.key[1]
    return f"{message.context}\x04{single}" if message.context else single


def import_translations(data: dict[str, dict[str, str | list[str]]]) -> dict[str, int]:
    """Fill msgstrs from {language: {msgid or 'ctx\\x04msgid': msgstr or [plural forms]}};
    empty values are skipped. Returns {language: filled}."""
    filled = {}
    for language, entries in data.items():
        catalog = read_catalog(language)
        count = 0
        for key, value in entries.items():
            if not value:
                continue
            context, _sep, msgid = key.rpartition("\x04")
            entry = catalog.get(msgid, context=context or None)
            if entry is None:
                continue
            entry.string = tuple(value) if isinstance(entry.id, tuple) else value
            entry.flags.discard("fuzzy")
            count += 1
        write_catalog(language, catalog)
        filled[language] = count
    return filled


def format_missing(missing: dict[str, list[Message]]) -> str:
    lines = []
    for language, gaps in missing.items():
        lines.append(f"{po_path(language)}: {len(gaps)} untranslated")
        for message in gaps:
            where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
            lines.append(f"  - {json_key(message)!r}  ({where})")
    return "\n".join(lines)


# %(name)s / %(n)d / %s in catalogs; {{ var }} in email templates.
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER_RE.findall(text.replace("%%", "")))


def placeholder_mismatches(language: str) -> list[str]:
    """Entries of a catalog whose translation does not use exactly the placeholders of
    its msgid (a missing or renamed %(name)s raises KeyError at runtime)."""
    problems = []
    for entry in read_catalog(language):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        allowed = [placeholders(text) for text in ids]
        for text in strings:
            # A plural form may drop the count (e.g. "one order"): it must not invent names.
            found = placeholders(text)
            if text and found not in allowed and not (len(ids) > 1 and set(found) <= set(allowed[-1])):
                problems.append(f"{language}: {ids[0]!r} → {text!r}")
    return problems


EMAIL_ROOT = Path("notifications") / "email"
_TEMPLATE_NAMES_RE = re.compile(r"{{\s*(.+?)\s*}}|{%\s*(if|elif|money|for\s+\w+\s+in|include|with)\s+(.+?)\s*%}")
_IDENT_RE = re.compile(r"(?<![\w.|:])([A-Za-z_]\w*)")
_NOT_VARIABLES = {"and", "or", "not", "in", "is", "None", "True", "False"}


def template_variables(source: str) -> set[str]:
    """Root context names a template uses ({{ total|money:currency }} → total, currency),
    plus the templates it includes: what a translation must keep."""
    names = set()
    for output, tag, arguments in _TEMPLATE_NAMES_RE.findall(source):
        if tag == "include":
            names.add(arguments)
            continue
        expression = re.sub(r"\"[^\"]*\"|'[^']*'", "", output or arguments)
        # Filter names follow "|"; arguments follow ":" and are variables.
        expression = re.sub(r"\|\s*\w+", "", expression).replace(":", " ")
        names.update(name for name in _IDENT_RE.findall(expression) if name not in _NOT_VARIABLES)
    return names


def email_template_mismatches(template_dir: Path | None = None) -> list[str]:
    """Translated default email files that use other variables than the English file."""
    root = Path(template_dir or Path(settings.BASE_DIR) / "templates") / EMAIL_ROOT
    problems = []
    for key_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        english = key_dir / settings.LANGUAGE_CODE
        if not english.is_dir():
            continue
        for language_dir in sorted(p for p in key_dir.iterdir() if p.is_dir() and p != english):
            for part in sorted(english.iterdir()):
                translated = language_dir / part.name
                if not translated.exists():
                    problems.append(f"{translated}: missing")
                    continue
                want = template_variables(part.read_text(encoding="utf-8"))
                got = template_variables(translated.read_text(encoding="utf-8"))
                if want != got:
                    problems.append(f"{translated}: missing {sorted(want - got)}, extra {sorted(got - want)}")
    return problems


def customer_email_keys() -> list[str]:
    """Default email templates a customer can receive: every key shipped under
    templates/notifications/email/ except staff ones (staff.*, the notifications
    SYSTEM_TEMPLATES, and keys whose every route goes to a staff group)."""
    from notifications.routing import ROUTES, STAFF_GROUP, SYSTEM_TEMPLATES

    root = Path(settings.BASE_DIR) / "templates" / EMAIL_ROOT
    keys = []
    for key_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        routes = [route for route in ROUTES if route.template_key == key_dir.name]
        staff_only = (key_dir.name.startswith("staff.") or key_dir.name in SYSTEM_TEMPLATES
                      or (routes and all(route.recipients == STAFF_GROUP for route in routes)))
        if not staff_only:
            keys.append(key_dir.name)
    return keys


def missing_email_translations() -> list[str]:
    """"<key>/<language>" for each customer email without a shipped file in a language."""
    from notifications.templating import file_source

    return [f"{key}/{language}" for key in customer_email_keys() for language in translated_languages()
            if file_source(key=key, language=language) is None]
