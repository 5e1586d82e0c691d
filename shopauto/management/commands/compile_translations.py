from django.core.management.base import BaseCommand

from shopauto.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files with Babel (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rewrite every .mo, even when up to date.")

    def handle(self, *args, force=False, **options):
        written = compile_catalogs(force=force)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Translations: {len(written)} catalog(s) compiled"
                              + (f" ({', '.join(str(p.parent.parent.name) for p in written)})" if written else
                                 " (all up to date)"))
