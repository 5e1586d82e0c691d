"""Outbox throughput: render + queue, then claim + hand to the email backend, for
10,000 recipients, streaming them in chunks (never all in memory).

    .venv/bin/python bench/notifications.py [recipients]

Uses its own PostgreSQL database (bench_notifications, created and dropped here), an
in-memory Celery broker (the publish cost is not what is measured) and anymail's test
backend as the ESP. Prints progress, messages per second and peak memory (RSS; with
BENCH_TRACEMALLOC=1 also the Python heap peak, at about half the speed).
"""

import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "bench_notifications"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import psycopg  # noqa: E402


def recreate_database():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(total: int = 10_000, chunk: int = 500):
    recreate_database()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection, transaction

    from customers.models import CustomerProfile
    from notifications import services
    from notifications.models import OutgoingMessage
    from notifications.samples import sample_context
    from shopauto.celery import app as celery_app

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    print(f"==> migrating {BENCH_DB}", flush=True)
    call_command("migrate", verbosity=0)

    print(f"==> creating {total:,} customers", flush=True)
    User = get_user_model()
    for start in range(0, total, 2000):
        users = User.objects.bulk_create([
            User(username=f"bench{n}@example.com", email=f"bench{n}@example.com", password="!")  # noqa: S106
            for n in range(start, min(start + 2000, total))])
        CustomerProfile.objects.bulk_create([
            CustomerProfile(user=user, language=("en", "pt-br", "it")[i % 3]) for i, user in enumerate(users)])
    base_context = sample_context("order.confirmed")

    def purge_broker():
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")

    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        tracemalloc.start()
    rss_before = rss_mb()
    print(f"==> rendering and queueing {total:,} messages (chunks of {chunk})", flush=True)
    t0 = time.perf_counter()
    done = 0
    recipients = (CustomerProfile.objects.select_related("user").order_by("pk").iterator(chunk_size=chunk))
    batch = []

    def queue(batch):
        with transaction.atomic():
            for profile in batch:
                services.message_queue(
                    template_key="order.confirmed", recipient_email=profile.user.email, language=profile.language,
                    context={**base_context, "number": f"SA-{profile.pk}", "customer_id": profile.pk,
                             "recipient_name": profile.user.username},
                    idempotency_key=f"bench:order.confirmed:{profile.user.email}", customer=profile)
        purge_broker()  # each commit published a send task; the bench sends them itself below

    for profile in recipients:
        batch.append(profile)
        if len(batch) == chunk:
            queue(batch)
            done += len(batch)
            batch = []
            if done % 2000 == 0:
                print(f"    queued {done:,} ({done / (time.perf_counter() - t0):,.0f}/s)", flush=True)
    if batch:
        queue(batch)
        done += len(batch)
    t_queue = time.perf_counter() - t0

    print(f"==> claiming and handing {total:,} messages to the email backend", flush=True)
    t1 = time.perf_counter()
    sent = 0
    last_id = 0
    while True:
        ids = list(OutgoingMessage.objects.filter(status="queued", pk__gt=last_id).order_by("pk")
                   .values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        for message_id in ids:
            sent += services.message_send(message_id=message_id).result == "sent"
        last_id = ids[-1]
        mail.outbox.clear()  # anymail's test backend keeps every message otherwise
        if sent % 2000 == 0:
            print(f"    sent {sent:,} ({sent / (time.perf_counter() - t1):,.0f}/s)", flush=True)
    t_send = time.perf_counter() - t1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    languages = dict(OutgoingMessage.objects.values_list("language").annotate(n=django.db.models.Count("pk")))
    print()
    print(f"recipients                 {total:,}  (languages used: {languages})")
    print(f"render + queue             {total / t_queue:,.0f} messages/s  ({t_queue:.1f} s)")
    print(f"claim + hand to backend    {sent / t_send:,.0f} messages/s  ({t_send:.1f} s)")
    print(f"end to end                 {sent / (t_queue + t_send):,.0f} messages/s rendered and handed to the backend")
    if peak:
        print(f"peak Python memory         {peak / 1024 / 1024:,.1f} MiB (tracemalloc, during the run)")
    print(f"peak RSS                   {rss_mb():,.0f} MiB (process; {rss_before:,.0f} MiB before the run)")
    connection.close()
    drop_database()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
