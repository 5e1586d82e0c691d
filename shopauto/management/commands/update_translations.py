import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shopauto import i18n


class Command(BaseCommand):
    help = ("Extract the portal's msgids (templates + Python, pure Python: no xgettext) and merge them into "
            "locale/<lang>/LC_MESSAGES/django.po; list what is still untranslated. "
            "--export FILE writes the gaps as JSON {language: {msgid: ''}} to fill in; "
            "--import FILE writes the filled JSON back into the catalogs.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only list missing translations; exit 1 if any.")
        parser.add_argument("--export", metavar="FILE", help="Write the missing msgids per language as JSON.")
        parser.add_argument("--import", dest="import_file", metavar="FILE",
                            help="Fill catalogs from JSON {language: {msgid: msgstr}} (msgctxt: 'ctx\\x04msgid').")

    def handle(self, *args, check=False, export=None, import_file=None, **options):
        messages = i18n.collect_messages()
        self.stdout.write(f"{len(messages)} portal msgids found.")
        if import_file:
            filled = i18n.import_translations(json.loads(Path(import_file).read_text(encoding="utf-8")))
            self.stdout.write(f"Imported: {filled}")
        if not check:
            added = i18n.update_catalogs(messages)
            self.stdout.write("New entries per catalog: " + ", ".join(f"{k}={v}" for k, v in added.items()))
        missing = i18n.missing_translations(messages)
        if export:
            payload = {language: {i18n.json_key(m): "" for m in gaps} for language, gaps in missing.items()}
            Path(export).write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
            self.stdout.write(f"Wrote the gaps to {export}")
        self.stdout.write(i18n.format_missing(missing) or "Every catalog is complete.")
        broken = [problem for language in i18n.translated_languages() for problem in i18n.placeholder_mismatches(language)]
        for problem in broken:
            self.stdout.write(f"Placeholder mismatch: {problem}")
        emails = i18n.missing_email_translations()
        if emails:
            self.stdout.write("Customer emails without a translated default (templates/notifications/email/): "
                              + ", ".join(emails))
        for problem in i18n.email_template_mismatches():
            self.stdout.write(f"Email template variables differ from English: {problem}")
        if check and (missing or broken or emails):
            raise CommandError("Untranslated portal strings (see above).")
