"""The managers' daily digest: what happened yesterday, from every app that can say.

Each section comes from a small provider. An app may offer its own by defining
`digest_summary(*, start, end) -> {"title": str, "lines": [str, ...]}` in its selectors
module (orders, quotes and returns will); until then a section says it is not available
rather than inventing numbers.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from automation.jobs import once_per_slot
from automation.models import Event

from .models import OutgoingMessage
from .services import staff_message

HOOK_APPS = ("orders", "quotes", "returns")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def _section(title, lines=None, *, available=True) -> dict:
    return {"title": str(title), "lines": [str(line) for line in (lines or [])], "available": available}


def _hook(app: str, start, end) -> dict | None:
    if not apps.is_installed(app) or find_spec(f"{app}.selectors") is None:
        return None
    provider = getattr(import_module(f"{app}.selectors"), "digest_summary", None)
    if provider is None:
        return None
    result = provider(start=start, end=end)
    return _section(result["title"], result.get("lines")) if result else None


def orders_section(start, end) -> dict:
    hooked = _hook("orders", start, end)
    if hooked:
        return hooked
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:
        return _section(_("Orders and revenue"), [_("Not available yet (no orders app).")], available=False)
    field_names = {field.name for field in order_model._meta.get_fields()}
    if not {"created_at", "total", "currency"} <= field_names:
        return _section(_("Orders and revenue"), [_("Not available yet.")], available=False)
    rows = (order_model.objects.filter(created_at__gte=start, created_at__lt=end).values("currency")
            .annotate(count=Count("pk"), revenue=Sum("total")).order_by("currency"))
    lines = [f"{row['count']} orders, {row['revenue']} {row['currency']}" for row in rows] or [_("No orders.")]
    return _section(_("Orders and revenue"), lines)


def open_items_section(app: str, title, start, end) -> dict:
    return _hook(app, start, end) or _section(title, [_("Not available yet.")], available=False)


def low_stock_section(start, end) -> dict:
    events = Event.objects.filter(name="stock.low", created_at__gte=start, created_at__lt=end).order_by("id")
    lines = []
    for event in events[:50]:
        payload = event.payload
        lines.append(f"{payload.get('sku')} {payload.get('product', '')} @ {payload.get('warehouse', '')}: "
                     f"{payload.get('available')} left (reorder point {payload.get('reorder_point')})"
                     + (f", {payload['purchase_order']}" if payload.get("purchase_order") else ""))
    return _section(_("Low stock"), lines or [_("Nothing ran low.")])


def failed_messages_section(start, end) -> dict:
    failed = OutgoingMessage.objects.filter(
        status__in=[OutgoingMessage.Status.FAILED, OutgoingMessage.Status.BOUNCED,
                    OutgoingMessage.Status.COMPLAINED],
        status_changed_at__gte=start, status_changed_at__lt=end,
    )
    counts = defaultdict(int)
    for status in failed.values_list("status", flat=True):
        counts[status] += 1
    lines = [f"{count} {status}" for status, count in sorted(counts.items())]
    lines += [f"#{pk} {key} → {email}" for pk, key, email in
              failed.order_by("-pk").values_list("pk", "template_key", "recipient_email")[:20]]
    return _section(_("Failed emails"), lines or [_("None.")])


def failed_events_section(start, end) -> dict:
    failed = Event.objects.filter(status=Event.Status.FAILED)
    lines = [f"{row['name']}: {row['count']}" for row in
             failed.values("name").annotate(count=Count("pk")).order_by("name")]
    return _section(_("Automation events that failed (open)"), lines or [_("None.")])


def digest_build(*, day: date) -> dict:
    """The digest for `day` (usually yesterday, in the shop's time zone)."""
    start, end = day_bounds(day)
    return {
        "day": day.isoformat(),
        "sections": [
            orders_section(start, end),
            low_stock_section(start, end),
            open_items_section("returns", _("Open returns"), start, end),
            open_items_section("quotes", _("Open quotes"), start, end),
            failed_messages_section(start, end),
            failed_events_section(start, end),
        ],
    }


def digest_send_if_due(*, now: datetime | None = None) -> dict | None:
    """Beat calls this every 15 minutes; from DIGEST_HOUR (shop time) on, the digest of
    yesterday goes to the Managers once per local day."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < settings.DIGEST_HOUR:
        return None
    # once_per_slot slots by UTC day: noon UTC of the local date names that date's slot.
    return _digest_once(day=local.date(), now=datetime.combine(local.date(), time(12), tzinfo=UTC))


@once_per_slot(86400, job="notifications.daily_digest")
def _digest_once(*, day, now):
    report = digest_build(day=day - timedelta(days=1))
    messages = staff_message(group="Managers", template_key="staff.digest",
                             idempotency_key=f"digest:{report['day']}", context=report)
    return {"day": report["day"], "messages": len(messages)}
