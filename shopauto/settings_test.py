"""The test suite's settings: production settings, pointed at the local PostgreSQL and
Redis unless DATABASE_URL / REDIS_URL say otherwise (e.g. `make test-embedded`)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopauto")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "tracking:webhook-secret")
os.environ.setdefault("CARRIER_WEBHOOK_SECRET", "carrier-test-secret")
os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "payment-test-secret")

from .settings import *  # noqa: E402,F403

EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
# Hashing with PBKDF2 dominates a test run; the algorithm is not what is under test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (WhiteNoise warns about a missing folder)
