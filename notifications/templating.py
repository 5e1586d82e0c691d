"""Find and render a notification template in the recipient's language.

Lookup order for each language of the chain (customer language → its base language →
LANGUAGE_CODE → en): an active NotificationTemplate row (edited by staff), then the
shipped default files templates/notifications/email/<key>/<language>/{subject.txt,
body.txt, body.html}. The first language that has the template wins.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError, engines
from django.utils import translation

from .exceptions import TemplateInvalid, TemplateMissing
from .models import Channel, NotificationTemplate

FILE_ROOT = "notifications/email"
PARTS = ("subject.txt", "body.txt", "body.html")


@dataclass(frozen=True)
class Source:
    language: str
    subject: str
    body_text: str
    body_html: str
    origin: str  # "database" | "file"


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body_text: str
    body_html: str


def _engine():
    return engines["django"].engine


def language_chain(language: str | None) -> list[str]:
    chain: list[str] = []
    for code in (language, (language or "").split("-")[0], settings.LANGUAGE_CODE, "en"):
        if code and code not in chain:
            chain.append(code)
    return chain


def file_source(*, key: str, language: str) -> Source | None:
    """The shipped default for (key, language), or None."""
    texts = []
    loader_engine = _engine()
    for part in PARTS:
        try:
            template = loader_engine.get_template(f"{FILE_ROOT}/{key}/{language}/{part}")
        except TemplateDoesNotExist:
            if part == "body.html":
                texts.append("")
                continue
            return None
        texts.append(template.source)
    return Source(language=language, subject=texts[0], body_text=texts[1], body_html=texts[2], origin="file")


def source_for(*, key: str, language: str | None) -> Source:
    """The template to use for `key` in `language`, falling back along the chain."""
    chain = language_chain(language)
    rows = {
        row.language: row
        for row in NotificationTemplate.objects.filter(
            key=key, channel=Channel.EMAIL, language__in=chain, is_active=True
        ).only("language", "subject", "body_text", "body_html")
    }
    for code in chain:
        row = rows.get(code)
        if row is not None:
            return Source(language=code, subject=row.subject, body_text=row.body_text, body_html=row.body_html,
                          origin="database")
        found = file_source(key=key, language=code)
        if found is not None:
            return found
    raise TemplateMissing(fields={"template": [key]})


@lru_cache(maxsize=512)
def _compile(text: str):
    # Keyed by the source itself: an edited template is a new key, never a stale hit.
    return _engine().from_string(text)


def check_syntax(text: str) -> None:
    try:
        _compile(text)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(str(exc)) from exc


def render_source(source: Source, context: dict) -> Rendered:
    values = {"SITE_URL": settings.SITE_URL, **context}
    try:
        with translation.override(source.language):
            # Subject and text are not HTML: no escaping there.
            subject = _compile(source.subject).render(Context(values, autoescape=False))
            body_text = _compile(source.body_text).render(Context(values, autoescape=False))
            body_html = _compile(source.body_html).render(Context(values)) if source.body_html.strip() else ""
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(str(exc)) from exc
    return Rendered(language=source.language, subject=" ".join(subject.split())[:300], body_text=body_text.strip() + "\n",
                    body_html=body_html.strip())


def render(*, key: str, language: str | None, context: dict) -> Rendered:
    return render_source(source_for(key=key, language=language), context)
