"""Built-in reactions to stock events.

`stock.low` needs no handler here: the service drafts the purchase order in the same
transaction as the crossing, so the event's payload can name it; notifications mails the
Purchasing group on that event."""

import logging
from functools import partial

from django.db import transaction

from automation.registry import on

logger = logging.getLogger(__name__)


def _enqueue_back_in_stock(variant_id: int) -> None:
    from .tasks import notify_back_in_stock

    try:
        notify_back_in_stock.delay(variant_id)
    except Exception as exc:  # broker down: the beat sweep notifies later
        logger.warning("back-in-stock walk for variant %s not queued (%s); the sweep will do it", variant_id, exc)


@on("stock.back_in_stock", name="inventory.notify_back_in_stock")
def walk_back_in_stock_subscriptions(event) -> None:
    # The walk commits batch by batch in its own task, not inside this handler's transaction.
    transaction.on_commit(partial(_enqueue_back_in_stock, int(event.payload["variant_id"])))
