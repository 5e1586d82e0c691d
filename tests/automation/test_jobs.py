from datetime import UTC, datetime, timedelta

import pytest

from automation.jobs import once_per_slot
from automation.models import JobRun

RUNS = []


@once_per_slot(3600, job="test.hourly")
def hourly_job(*, now):
    RUNS.append(now)
    return {"count": len(RUNS)}


@pytest.mark.django_db
def test_periodic_job_runs_once_per_slot():
    RUNS.clear()
    ten = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)

    assert hourly_job(now=ten) == {"count": 1}
    assert hourly_job(now=ten + timedelta(minutes=50)) is None  # same hour: a duplicate beat
    assert hourly_job(now=ten + timedelta(hours=1)) == {"count": 2}

    assert len(RUNS) == 2
    assert list(JobRun.objects.filter(job="test.hourly").values_list("slot", flat=True).order_by("slot")) == [
        datetime(2026, 11, 23, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 11, 0, tzinfo=UTC),
    ]


@pytest.mark.django_db
def test_failed_job_leaves_its_slot_free_for_a_retry():
    attempts = []

    @once_per_slot(60, job="test.flaky")
    def flaky(*, now):
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")
        return "ok"

    now = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        flaky(now=now)
    assert flaky(now=now) == "ok"
    assert JobRun.objects.filter(job="test.flaky").count() == 1


@pytest.mark.django_db
def test_batch_job_claims_its_slot_first_and_withdraws_the_claim_when_it_fails():
    calls = []

    @once_per_slot(60, job="test.batch", atomic=False)
    def batch(*, now):
        calls.append(now)
        assert JobRun.objects.filter(job="test.batch").exists()  # claim visible while the batch runs
        if len(calls) == 1:
            raise RuntimeError("worker lost its database")
        return {"done": len(calls)}

    now = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        batch(now=now)
    assert not JobRun.objects.filter(job="test.batch").exists()
    assert batch(now=now) == {"done": 2}
    assert batch(now=now) is None
    assert JobRun.objects.get(job="test.batch").finished_at is not None
