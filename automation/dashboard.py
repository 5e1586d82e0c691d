"""The back-office dashboard on the admin index: what needs attention, in a constant
number of queries, with links into the admin lists. Apps that are not there yet (quotes,
returns) or have no admin show "—" instead of failing."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

DAYS = 30
# States after which a quote or a return needs nobody any more.
CLOSED_QUOTE_STATES = ("converted", "declined", "expired", "cancelled")
CLOSED_RETURN_STATES = ("rejected", "closed", "cancelled")


@dataclass
class Tile:
    label: str
    value: int | None  # None: not available (app or model missing)
    url: str | None
    alert: bool = False


def _admin_url(name: str, query: str = "") -> str | None:
    try:
        return reverse(name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def _model(*candidates: str):
    for label in candidates:
        app_label = label.split(".")[0]
        if not apps.is_installed(app_label):
            continue
        try:
            return apps.get_model(label)
        except LookupError:
            continue
    return None


def _open_count(model, closed_states) -> int | None:
    if model is None or "status" not in {f.name for f in model._meta.get_fields()}:
        return None
    return model._default_manager.exclude(status__in=closed_states).count()


def orders_per_day(*, today=None) -> list[dict]:
    """Orders (not cancelled) and revenue in the default currency for the last DAYS days:
    one query."""
    order_model = _model("orders.Order")
    today = today or timezone.localdate()
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    series = {day: {"day": day, "orders": 0, "revenue": Decimal("0")} for day in days}
    if order_model is None:
        return list(series.values())
    start = timezone.make_aware(datetime.combine(days[0], time.min))
    rows = (order_model.objects.filter(placed_at__gte=start).exclude(status="cancelled")
            .annotate(day=TruncDate("placed_at", tzinfo=timezone.get_current_timezone()))
            .values("day")
            .annotate(orders=Count("pk"),
                      revenue=Sum("total", filter=Q(currency=settings.DEFAULT_CURRENCY))))
    for row in rows:
        if row["day"] in series:
            series[row["day"]]["orders"] = row["orders"]
            series[row["day"]]["revenue"] = row["revenue"] or Decimal("0")
    return list(series.values())


def bar_chart(points: list[tuple[object, Decimal | int]], *, title: str, unit: str = "",
              width: int = 600, height: int = 140) -> SafeString:
    """An inline SVG bar chart (no JavaScript, no CDN); each bar has a tooltip."""
    top = max((Decimal(value) for _, value in points), default=Decimal("0")) or Decimal("1")
    gap, left, bottom = 2, 4, 18
    bar_width = (width - left) / max(len(points), 1) - gap
    bars = []
    for index, (day, value) in enumerate(points):
        bar_height = float(Decimal(value) / top) * (height - bottom - 14)
        x = left + index * (bar_width + gap)
        bars.append((f"{x:.1f}", f"{height - bottom - bar_height:.1f}", f"{bar_width:.1f}", f"{bar_height:.1f}",
                     f"{date_format(day, 'SHORT_DATE_FORMAT')}: {value} {unit}".strip()))
    rects = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>{}</title></rect>', bars)
    first = date_format(points[0][0], "SHORT_DATE_FORMAT") if points else ""
    last = date_format(points[-1][0], "SHORT_DATE_FORMAT") if points else ""
    return format_html(
        '<svg role="img" aria-label="{title}" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="none" '
        'class="dashboard-chart"><title>{title}</title>'
        '<text x="{left}" y="11" font-size="11" fill="#666">{top} {unit}</text>{rects}'
        '<text x="{left}" y="{yb}" font-size="11" fill="#666">{first}</text>'
        '<text x="{xr}" y="{yb}" font-size="11" fill="#666" text-anchor="end">{last}</text></svg>',
        title=title, w=width, h=height, left=left, top=top, unit=unit, rects=rects, yb=height - 4, first=first,
        xr=width - 2, last=last,
    )


def dashboard_data() -> dict:
    from notifications.models import OutgoingMessage

    from .models import Event, RuleRun, WebhookDelivery, WebhookEndpoint

    series = orders_per_day()
    stock_level = _model("inventory.StockLevel")
    low_stock = []
    low_stock_count = None
    if stock_level is not None:
        low = stock_level.objects.filter(low_stock_alerted=True)
        low_stock = list(low.select_related("variant", "warehouse").order_by("variant__sku")[:8])
        low_stock_count = low.count()
    tiles = [
        Tile(_("Open quotes"), _open_count(_model("quotes.Quote"), CLOSED_QUOTE_STATES),
             _admin_url("admin:quotes_quote_changelist")),
        Tile(_("Open returns"), _open_count(_model("returns.ReturnRequest", "returns.Return"), CLOSED_RETURN_STATES),
             _admin_url("admin:returns_returnrequest_changelist") or _admin_url("admin:returns_return_changelist")),
        Tile(_("Low-stock items"), low_stock_count, _admin_url("admin:inventory_stocklevel_changelist",
                                                               "low_stock_alerted__exact=1"),
             alert=bool(low_stock_count)),
    ]
    failed_messages = OutgoingMessage.objects.filter(status=OutgoingMessage.Status.FAILED).count()
    runs = RuleRun.objects.aggregate(failed=Count("pk", filter=Q(status=RuleRun.Status.FAILED)),
                                     waiting=Count("pk", filter=Q(status=RuleRun.Status.WAITING)))
    failed_events = Event.objects.filter(status=Event.Status.FAILED).count()
    failed_deliveries = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
    disabled_endpoints = WebhookEndpoint.objects.filter(active=False).count()
    tiles += [
        Tile(_("Failed messages"), failed_messages,
             _admin_url("admin:notifications_outgoingmessage_changelist", "status__exact=failed"),
             alert=bool(failed_messages)),
        Tile(_("Failed automation runs"), runs["failed"],
             _admin_url("admin:automation_rulerun_changelist", "status__exact=failed"), alert=bool(runs["failed"])),
        Tile(_("Runs waiting"), runs["waiting"], _admin_url("admin:automation_rulerun_changelist",
                                                            "status__exact=waiting")),
        Tile(_("Failed events"), failed_events, _admin_url("admin:automation_event_changelist", "status__exact=failed"),
             alert=bool(failed_events)),
        Tile(_("Failed webhook deliveries"), failed_deliveries,
             _admin_url("admin:automation_webhookdelivery_changelist", "status__exact=failed"),
             alert=bool(failed_deliveries)),
        Tile(_("Disabled webhook endpoints"), disabled_endpoints,
             _admin_url("admin:automation_webhookendpoint_changelist", "active__exact=0"),
             alert=bool(disabled_endpoints)),
    ]
    total_orders = sum(point["orders"] for point in series)
    total_revenue = sum((point["revenue"] for point in series), Decimal("0"))
    return {
        "tiles": tiles,
        "low_stock": low_stock,
        "orders_chart": bar_chart([(p["day"], p["orders"]) for p in series], title=str(_("Orders per day"))),
        "revenue_chart": bar_chart([(p["day"], p["revenue"]) for p in series], title=str(_("Revenue per day")),
                                   unit=settings.DEFAULT_CURRENCY),
        "total_orders": total_orders,
        "total_revenue": total_revenue,
        "currency": settings.DEFAULT_CURRENCY,
        "days": DAYS,
        "orders_url": _admin_url("admin:orders_order_changelist"),
    }
