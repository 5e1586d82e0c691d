"""Every periodic job of ShopAuto, in one place.

Beat (django-celery-beat's database scheduler) installs these entries at start, so staff
can see and pause them in the admin. Each job is idempotent per time slot
(automation.jobs.once_per_slot), so a second beat or a late run does no double work.
"""

BEAT_SCHEDULE = {
    "automation.sweep_events": {
        "task": "automation.tasks.sweep_events",
        "schedule": 30.0,
    },
    "orders.cancel_unpaid_orders": {"task": "orders.tasks.cancel_unpaid_orders", "schedule": 300.0},
    "orders.remind_abandoned_carts": {"task": "orders.tasks.remind_abandoned_carts", "schedule": 900.0},
    "orders.remind_approvers": {"task": "orders.tasks.remind_approvers", "schedule": 3600.0},
    "orders.complete_orders": {"task": "orders.tasks.complete_orders", "schedule": 3600.0},
    "automation.purge_processed_events": {
        "task": "automation.tasks.purge_processed_events",
        "schedule": 3600.0,
    },
}
