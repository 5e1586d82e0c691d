"""Celery is configured for at-least-once delivery with idempotent tasks, and no wait in
the code can outlive the broker's visibility timeout (Redis would deliver it twice)."""

import ast
from pathlib import Path

from django.conf import settings

from shopauto.celery import app, bounded_countdown

ROOT = Path(settings.BASE_DIR)
PROJECT_DIRS = ["shopauto", "automation", "customers", "catalog", "inventory", "orders", "quotes", "returns",
                "notifications"]
TIMING_KEYWORDS = {"countdown", "eta", "retry_backoff_max", "default_retry_delay", "max_retry_delay"}


def test_celery_runs_json_only_with_late_acks_and_one_message_prefetched():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit < settings.CELERY_VISIBILITY_TIMEOUT


def test_redis_visibility_timeout_is_explicit():
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert app.conf.broker_transport_options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
        assert app.conf.broker_transport_options["socket_connect_timeout"] <= 2
        assert app.conf.broker_transport_options["socket_timeout"] <= 5


def test_registered_task_retry_delays_stay_below_the_visibility_timeout():
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    ours = [task for name, task in app.tasks.items() if name.split(".")[0] in PROJECT_DIRS]
    assert ours, "no ShopAuto task registered"
    for task in ours:
        waits = [task.default_retry_delay or 0]
        if getattr(task, "retry_backoff", False):
            waits.append(getattr(task, "retry_backoff_max", 600))
        assert max(waits) < settings.CELERY_VISIBILITY_TIMEOUT, task.name


def _literal_seconds(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    return None


def test_no_countdown_eta_or_backoff_in_the_code_exceeds_the_visibility_timeout():
    """Every countdown/ETA/backoff is a literal below the timeout or goes through
    bounded_countdown(); long waits are due_at columns that beat scans."""
    offenders = []
    for directory in PROJECT_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.keyword) or node.arg not in TIMING_KEYWORDS:
                    continue
                value = node.value
                seconds = _literal_seconds(value)
                bounded = isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) == "bounded_countdown"
                if node.arg == "eta" or (seconds is None and not bounded) or (seconds is not None and seconds >= settings.CELERY_VISIBILITY_TIMEOUT):
                    offenders.append(f"{path.relative_to(ROOT)}:{value.lineno} {node.arg}={ast.unparse(value)}")
    assert offenders == []


def test_bounded_countdown_never_reaches_the_visibility_timeout():
    assert bounded_countdown(30) == 30
    assert bounded_countdown(10 * 24 * 3600) < settings.CELERY_VISIBILITY_TIMEOUT
    assert bounded_countdown(-5) == 0


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
