"""What the orders app offers automation rules.

The staff alerts that used to live here (large orders → Sales, delivery exceptions →
Support) are now the default rules "Alert Sales on large orders" and "Alert Support on
delivery exceptions" (automation/defaults.py), which staff can tune or switch off in the
admin. Rules may hold orders and tag them through these services.
"""

from django.utils.translation import gettext_lazy as _

from automation.actions import register_tagger, register_transition

from . import services


def _hold(*, subject_id: str, reason: str):
    return services.order_hold(order_id=int(subject_id), actor=None, reason=reason)


def _tag(*, subject_id: str, tag: str):
    return services.order_tag(order_id=int(subject_id), tag=tag)


register_transition("order.hold", _("Put the order on hold"), _hold, subject_type="orders.order")
register_tagger("orders.order", _tag)
