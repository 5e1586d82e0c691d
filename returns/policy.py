"""The return policy decides by itself: approve, reject (with the reason shown to the
customer) or needs review, and names the rule that decided.

Rules, first match wins:
1. not_returnable — an item is non-returnable (variant/product flag in the catalog, the
   policy's list, or a category rule of the item's category or one of its parents);
2. return_window — delivered_at + window < now; the window is the variant's, else the
   product's (catalog), else a category rule's, else the policy's;
3. customer_limit — the customer already has `limit_count` requests (not rejected) in
   the last `limit_period_days`;
4. needs_inspection — the reason is one the policy wants staff to review;
5. value_threshold — the items are worth more than `auto_approve_max_value`;
6. within_policy — approved.

Money: Decimal throughout; the fee is ROUND_HALF_UP to cents (see `amounts`).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from .models import ReturnPolicy, ReturnRequest

CENT = Decimal("0.01")
Rule = ReturnRequest.Rule
Decision = ReturnRequest.Decision


@dataclass(frozen=True)
class Verdict:
    decision: str
    rule: str
    message: str


@dataclass(frozen=True)
class Amounts:
    items_value: Decimal
    restocking_fee: Decimal
    refund: Decimal


def active_policy() -> ReturnPolicy:
    """The active policy; a default one (30 days, no fee) is created the first time."""
    policy = ReturnPolicy.objects.filter(is_active=True).first()
    if policy is None:
        policy, _created = ReturnPolicy.objects.get_or_create(is_active=True, defaults={"name": "Default"})
    return policy


def amounts(*, policy: ReturnPolicy, reason: str, value: Decimal, exchange: bool = False) -> Amounts:
    """Refund = value of the items paid − restocking fee (percent of the value, rounded
    half up to cents, plus the fixed part), never below zero. No fee for the shop's
    faults (policy.fee_exempt_reasons) nor for an exchange."""
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    fee = Decimal("0.00")
    if not exchange and reason not in (policy.fee_exempt_reasons or []) and value > 0:
        percent = (value * policy.restocking_fee_percent / Decimal("100")).quantize(CENT, rounding=ROUND_HALF_UP)
        fee = min(percent + policy.restocking_fee_fixed, value)
    return Amounts(items_value=value, restocking_fee=fee, refund=value - fee)


def _category_rules(policy: ReturnPolicy) -> tuple[dict, dict]:
    from catalog.models import Category

    rules = {rule.category_id: rule for rule in policy.category_rules.all()}
    parents = dict(Category.objects.values_list("pk", "parent_id")) if rules else {}
    return rules, parents


def _category_rule(category_id, rules, parents):
    seen = set()
    while category_id is not None and category_id not in seen:
        if category_id in rules:
            return rules[category_id]
        seen.add(category_id)
        category_id = parents.get(category_id)
    return None


def window_days_for(*, policy: ReturnPolicy, variant, rules=None, parents=None) -> int:
    if rules is None:
        rules, parents = _category_rules(policy)
    own = variant.effective_return_window_days
    if own is not None:
        return own
    rule = _category_rule(variant.product.category_id, rules, parents)
    if rule is not None and rule.window_days is not None:
        return rule.window_days
    return policy.window_days


def is_returnable(*, policy: ReturnPolicy, variant, rules=None, parents=None, excluded=None) -> bool:
    if rules is None:
        rules, parents = _category_rules(policy)
    if excluded is None:
        excluded = set(policy.non_returnable_products.values_list("pk", flat=True))
    if not variant.is_returnable or variant.product_id in excluded:
        return False
    rule = _category_rule(variant.product.category_id, rules, parents)
    return rule is None or rule.returnable


def evaluate(*, policy: ReturnPolicy, order, variants: list, reason: str, value: Decimal, customer, now) -> Verdict:
    """`variants`: the catalog variants of the lines asked for (with product loaded)."""
    rules, parents = _category_rules(policy)
    excluded = set(policy.non_returnable_products.values_list("pk", flat=True))

    blocked = [v.sku for v in variants if not is_returnable(policy=policy, variant=v, rules=rules, parents=parents,
                                                            excluded=excluded)]
    if blocked:
        return Verdict(Decision.REJECT, Rule.NOT_RETURNABLE,
                       _("These items cannot be returned: %(skus)s.") % {"skus": ", ".join(blocked)})

    closed = []
    for variant in variants:
        deadline = order.delivered_at + timedelta(days=window_days_for(policy=policy, variant=variant, rules=rules,
                                                                       parents=parents))
        if now > deadline:
            closed.append((variant.sku, deadline))
    if closed:
        sku, deadline = closed[0]
        return Verdict(Decision.REJECT, Rule.RETURN_WINDOW,
                       _("The return window for %(skus)s closed on %(date)s.")
                       % {"skus": ", ".join(s for s, _d in closed), "date": formats.date_format(deadline.date())})

    if policy.limit_count is not None:
        since = now - timedelta(days=policy.limit_period_days)
        count = (ReturnRequest.objects.filter(customer=customer, created_at__gte=since)
                 .exclude(status=ReturnRequest.Status.REJECTED).count())
        if count >= policy.limit_count:
            return Verdict(Decision.REJECT, Rule.CUSTOMER_LIMIT,
                           _("You have reached the limit of %(count)s returns in %(days)s days. "
                             "Please contact us.") % {"count": policy.limit_count, "days": policy.limit_period_days})

    if reason in (policy.inspection_reasons or []):
        return Verdict(Decision.REVIEW, Rule.NEEDS_INSPECTION,
                       _("Our team will review your request and answer within two working days."))
    if policy.auto_approve_max_value is not None and value > policy.auto_approve_max_value:
        return Verdict(Decision.REVIEW, Rule.VALUE_THRESHOLD,
                       _("Our team will review your request and answer within two working days."))
    return Verdict(Decision.APPROVE, Rule.WITHIN_POLICY, _("Approved: within the return policy."))
