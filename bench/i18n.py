"""How long the translation tooling takes (it runs in `make test`/`make run` and at every
merge), and what locale-aware money costs per call. No database needed.

    .venv/bin/python bench/i18n.py
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")

import django  # noqa: E402

django.setup()

from django.template import Context, Template  # noqa: E402
from django.utils import translation  # noqa: E402

from shopauto import i18n  # noqa: E402
from shopauto.templatetags.money import format_money  # noqa: E402


def timed(label, func, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        result = func()
    elapsed = time.perf_counter() - start
    per = elapsed / repeat
    print(f"{label:<58} {per * 1000:9.3f} ms" + (f"  ({repeat} runs)" if repeat > 1 else ""), flush=True)
    return result


print("Translation tooling", flush=True)
messages = timed("collect portal msgids (templatize + Babel extract)", i18n.collect_messages, repeat=5)
print(f"  {len(messages)} msgids")
timed("completeness check (5 catalogs)", lambda: i18n.missing_translations(messages), repeat=5)
timed("placeholder check (5 catalogs)", lambda: [i18n.placeholder_mismatches(code)
                                                 for code in i18n.translated_languages()], repeat=5)
timed("email template variable check", i18n.email_template_mismatches, repeat=5)
timed("compile 5 catalogs .po -> .mo (Babel, forced)", lambda: i18n.compile_catalogs(force=True), repeat=5)
timed("compile when up to date (make test/run)", i18n.compile_catalogs, repeat=5)

print("Money formatting", flush=True)
template = Template("{% for a in amounts %}{{ a|money:'EUR' }} {% endfor %}")
amounts = [Decimal(n) / 100 for n in range(1000)]
for language in ("en", "pt-br", "zh-hans"):
    with translation.override(language):
        timed(f"format_money x10,000 [{language}] (per call in us = ms/10)",
              lambda: [format_money(a, "EUR") for a in amounts * 10], repeat=1)
        timed(f"template with 1,000 |money [{language}]", lambda: template.render(Context({"amounts": amounts})),
              repeat=3)
with translation.override("pt-br"):
    plain = Template("{% for a in amounts %}{{ a }} EUR {% endfor %}")
    timed("same template without the filter [pt-br] (baseline)", lambda: plain.render(Context({"amounts": amounts})),
          repeat=3)
