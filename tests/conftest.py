import socket
import threading
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from automation import registry, services
from shopauto.celery import app as celery_app

requires_postgres = pytest.mark.skipif(
    not settings.IS_POSTGRES, reason="needs PostgreSQL: real row locks and concurrent connections"
)
requires_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    # pytest-django swaps in locmem; assert through anymail's test backend instead.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_broker_state():
    services.reset_broker_backoff()
    yield
    services.reset_broker_backoff()


@pytest.fixture
def temp_handler():
    """Register handlers for the duration of one test: `temp_handler("x.*", func)`."""
    names = []

    def register(pattern, func, name=None):
        name = name or f"test.{func.__name__}.{len(names)}"
        registry.on(pattern, name=name)(func)
        names.append(name)
        return name

    yield register
    for name in names:
        registry.unregister(name)


@contextmanager
def broker_at(url: str):
    """Point the Celery app at another broker URL (and drop pooled connections)."""
    old = celery_app.conf.broker_url
    _drop_broker_connections()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        _drop_broker_connections()
        celery_app.conf.broker_url = old
        services.reset_broker_backoff()


def _drop_broker_connections():
    # What Celery itself does after a fork (Celery._after_fork). The pools stay open:
    # kombu keeps them per URL and hands the same one back when the URL comes back.
    celery_app._after_fork()


@pytest.fixture
def dead_broker():
    """A Redis URL where nothing listens (connection refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with broker_at(f"redis://127.0.0.1:{port}/0"):
        yield


@pytest.fixture
def paused_broker():
    """A Redis URL that accepts connections and then never answers (a paused or
    overloaded server): the worst case for a publisher without timeouts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    with broker_at(f"redis://127.0.0.1:{server.getsockname()[1]}/0"):
        yield
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture
def broker_queue():
    """The real broker's default queue (Redis), emptied before the test."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker (in a thread of this process) consuming the real broker."""
    from celery.contrib.testing.worker import start_worker

    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=20) as worker:
        yield worker
    connection.close()
