import os
import subprocess
import sys

from django.conf import settings


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "shopauto.settings",
        "SECRET_KEY": "prod-like-key-" + "x" * 60,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///" + str(tmp_path / "db.sqlite3")),
        "REDIS_URL": settings.REDIS_URL or "redis://127.0.0.1:6379/0",
        "SHOPAUTO_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    import re

    text = (settings.BASE_DIR / "shopauto" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\("([A-Z_]+)"', text)) | set(re.findall(r'env\.db\("([A-Z_]+)"', text))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.M))
    assert read - documented == set()
