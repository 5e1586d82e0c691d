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
    "returns.remind_and_close_returns": {"task": "returns.tasks.remind_and_close_returns", "schedule": 3600.0},
    "quotes.expire_quotes": {"task": "quotes.tasks.expire_quotes", "schedule": 900.0},
    # Waiting rule runs (wait steps) whose time has come; webhook retries the broker
    # could not hold; the delivery log's retention.
    "automation.resume_rule_runs": {"task": "automation.tasks.resume_rule_runs", "schedule": 60.0},
    "automation.sweep_webhook_deliveries": {"task": "automation.tasks.sweep_webhook_deliveries", "schedule": 60.0},
    "automation.purge_webhook_deliveries": {"task": "automation.tasks.purge_webhook_deliveries", "schedule": 3600.0},
    "automation.purge_processed_events": {
        "task": "automation.tasks.purge_processed_events",
        "schedule": 3600.0,
    },
    "catalog.sync_price_lists": {
        "task": "catalog.tasks.sync_price_lists",
        "schedule": 60.0,
    },
    "inventory.release_expired_reservations": {
        "task": "inventory.tasks.release_expired_reservations",
        "schedule": 60.0,
    },
    "inventory.sweep_back_in_stock": {
        "task": "inventory.tasks.sweep_back_in_stock",
        "schedule": 600.0,
    },
    "notifications.sweep_messages": {
        "task": "notifications.tasks.sweep_messages",
        "schedule": 60.0,
    },
    # Checks every 15 minutes; sends once per day from DIGEST_HOUR (settings) on.
    "notifications.daily_digest": {
        "task": "notifications.tasks.daily_digest",
        "schedule": 900.0,
    },
}
