from celery import shared_task

from automation.jobs import once_per_slot

from . import services


@shared_task(name="orders.tasks.cancel_unpaid_orders")
def cancel_unpaid_orders() -> None:
    _cancel_unpaid()


@once_per_slot(300, job="orders.cancel_unpaid", atomic=False)
def _cancel_unpaid(*, now):
    return {"cancelled": services.orders_cancel_unpaid(now=now)}


@shared_task(name="orders.tasks.remind_abandoned_carts")
def remind_abandoned_carts() -> None:
    _remind_carts()


@once_per_slot(900, job="orders.remind_abandoned_carts", atomic=False)
def _remind_carts(*, now):
    return {"reminded": services.carts_remind_abandoned(now=now)}


@shared_task(name="orders.tasks.remind_approvers")
def remind_approvers() -> None:
    _remind_approvers()


@once_per_slot(3600, job="orders.remind_approvers", atomic=False)
def _remind_approvers(*, now):
    return {"reminded": services.orders_remind_approvers(now=now)}


@shared_task(name="orders.tasks.complete_orders")
def complete_orders() -> None:
    _complete()


@once_per_slot(3600, job="orders.complete_orders", atomic=False)
def _complete(*, now):
    return {"completed": services.orders_complete_after_return_window(now=now)}
