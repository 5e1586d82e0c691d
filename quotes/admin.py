from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm_log.admin import StateLogInline

from catalog import pricing
from catalog.models import Variant
from shopauto.admin_transitions import TransitionAction, TransitionButtonsMixin
from shopauto.exceptions import DomainError

from . import selectors, services
from .models import Quote, QuoteLine, QuoteRequestLine, QuoteVersion
from .pdf import quote_pdf_response

A = TransitionAction
QUOTE_ACTIONS = {
    "start_review": A(_("Start review"), lambda q, u, r: services.quote_start_review(quote_id=q.pk, actor=u),
                      "quotes.change_quote", "start_review"),
    "send": A(_("Send to the buyer (or ask for approval)"),
              lambda q, u, r: services.quote_send(quote_id=q.pk, actor=u), "quotes.change_quote", "send"),
    "approve": A(_("Approve discount"), lambda q, u, r: services.quote_approve(quote_id=q.pk, actor=u, note=r),
                 "quotes.approve_quote", "approve"),
    "reject_approval": A(_("Send back for repricing"),
                         lambda q, u, r: services.quote_reject_approval(quote_id=q.pk, actor=u, reason=r),
                         "quotes.approve_quote"),
    "convert": A(_("Retry conversion to an order"), lambda q, u, r: services.quote_convert(quote_id=q.pk, actor=u),
                 "quotes.change_quote", "convert"),
    "cancel": A(_("Cancel"), lambda q, u, r: services.quote_cancel(quote_id=q.pk, actor=u, reason=r),
                "quotes.change_quote", "cancel"),
}


class RequestLineInline(admin.TabularInline):
    model = QuoteRequestLine
    extra = 0
    can_delete = False
    readonly_fields = ["variant", "quantity", "target_price"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Quote)
class QuoteAdmin(TransitionButtonsMixin, admin.ModelAdmin):
    transition_actions = QUOTE_ACTIONS
    list_display = ["number", "customer", "company", "status", "requested_at", "needed_by", "valid_until", "order"]
    list_filter = ["status", "source", "company"]
    search_fields = ["number", "customer__user__email", "company__name", "order__number"]
    date_hierarchy = "requested_at"
    list_select_related = ["customer__user", "company", "order"]
    readonly_fields = ["number", "customer", "company", "status", "source", "currency", "notes", "needed_by",
                       "requested_at", "valid_until", "expiry_reminded_at", "accepted_at", "checkout", "order",
                       "conversion_error", "conversion_attempts", "close_reason", "transition_buttons",
                       "pricing_link", "version_history"]
    fieldsets = [
        (None, {"fields": ["number", "status", "transition_buttons", "pricing_link", "customer", "company",
                           "source", "currency"]}),
        (_("Request"), {"fields": ["notes", "needed_by", "requested_at"]}),
        (_("Versions"), {"fields": ["version_history", "valid_until", "expiry_reminded_at"]}),
        (_("Acceptance"), {"fields": ["accepted_at", "checkout", "order", "conversion_error",
                                      "conversion_attempts", "close_reason"]}),
    ]
    inlines = [RequestLineInline, StateLogInline]

    def has_add_permission(self, request):
        return False  # requests come from buyers (portal, API) through the services

    def has_delete_permission(self, request, obj=None):
        return False

    def transition_allowed(self, request, quote, name):
        if name == "reject_approval":
            return quote.status == Quote.Status.PENDING_APPROVAL
        return True

    def transition_done(self, request, quote, name, action, result):
        if name == "send" and result.status == Quote.Status.PENDING_APPROVAL:
            messages.warning(request, _("The discount is beyond the limit: the quote waits for a manager's "
                                        "approval (Managers were alerted)."))
        elif name == "convert" and result.status != Quote.Status.CONVERTED:
            messages.error(request, _("The order could not be placed: %(message)s")
                           % {"message": result.conversion_error.get("message", "")})
        else:
            super().transition_done(request, quote, name, action, result)

    @admin.display(description=_("pricing"))
    def pricing_link(self, quote):
        if quote.pk is None or quote.status not in (Quote.Status.REQUESTED, Quote.Status.IN_REVIEW,
                                                    Quote.Status.PENDING_APPROVAL, Quote.Status.APPROVED):
            return "—"
        return format_html('<a class="button" href="{}">{}</a>', reverse("admin:quotes_quote_price", args=[quote.pk]),
                           _("Price this quote (new version)"))

    @admin.display(description=_("version history"))
    def version_history(self, quote):
        versions = selectors.quote_versions(quote=quote, include_drafts=True)
        if not versions:
            return _("Not priced yet.")
        head = format_html_join("", "<th>{}</th>", (
            (format_html('v{} {}<br><small>{}</small> <a href="{}">PDF</a>', v.number,
                         _("(draft)") if v.is_draft else "",
                         (v.sent_at or v.created_at).strftime("%Y-%m-%d %H:%M"),
                         reverse("admin:quotes_quote_pdf", args=[quote.pk, v.number])),) for v in versions))
        rows = []
        for row in selectors.versions_side_by_side(versions):
            cells = format_html_join("", "<td{}>{}</td>", (
                (' style="background:#fff3cd"' if cell and cell.get("changed") else "",
                 format_html("{} × {} = {}{}", cell["quantity"], cell["unit_price"], cell["line_total"],
                             format_html(" <small>(−{}%)</small>", cell["discount_percent"])
                             if cell["discount_percent"] else "") if cell else "—")
                for cell in row["cells"]))
            rows.append(format_html("<tr><th>{}<br><small>{}</small></th>{}</tr>", row["sku"], row["name"], cells))
        totals = format_html_join("", "<td><strong>{} {}</strong>{}</td>", (
            (v.subtotal, v.currency, format_html("<br><small>{}</small>", _("needs approval"))
             if v.needs_approval and not v.approved else "") for v in versions))
        comments = format_html_join("", "<td><small>{}</small></td>", ((v.changes_requested or "",) for v in versions))
        return format_html('<table><thead><tr><th></th>{}</tr></thead><tbody>{}<tr><th>{}</th>{}</tr>'
                           "<tr><th>{}</th>{}</tr></tbody></table>", head, format_html_join("", "{}", ((r,) for r in rows)),
                           _("Subtotal"), totals, _("Buyer asked"), comments)

    def get_urls(self):
        return [
            path("<int:quote_id>/price/", self.admin_site.admin_view(self.price_view), name="quotes_quote_price"),
            path("<int:quote_id>/v<int:version>.pdf", self.admin_site.admin_view(self.pdf_view),
                 name="quotes_quote_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, quote_id, version):
        if not request.user.has_perm("quotes.view_quote"):
            raise PermissionDenied
        quote = get_object_or_404(Quote, pk=quote_id)
        return quote_pdf_response(quote, get_object_or_404(QuoteVersion, quote=quote, number=version))

    def price_view(self, request, quote_id):
        """The staff pricing form: each line starts from the customer's price for that
        quantity (their list and tier), with their tier table and target price beside it."""
        if not request.user.has_perm("quotes.change_quote"):
            raise PermissionDenied
        quote = get_object_or_404(Quote.objects.select_related("customer__user", "company"), pk=quote_id)
        errors = []
        if request.method == "POST":
            lines, errors = _priced_lines(request.POST, quote)
            valid_until = parse_date(request.POST.get("valid_until", "") or "")
            shipping = request.POST.get("shipping", "").strip()
            if not errors:
                try:
                    services.quote_price(
                        quote_id=quote.pk, actor=request.user, lines=lines, note=request.POST.get("note", ""),
                        valid_until=timezone.make_aware(datetime.combine(valid_until, clock.max))
                        if valid_until else None,
                        shipping=Decimal(shipping) if shipping else None)
                except (DomainError, InvalidOperation) as error:
                    errors.append(getattr(error, "message", str(error)))
                else:
                    messages.success(request, _("Draft version saved. Send it to the buyer when ready."))
                    return redirect("admin:quotes_quote_change", quote.pk)
        rows = _pricing_rows(quote)
        context = {**self.admin_site.each_context(request), "quote": quote, "rows": rows, "errors": errors,
                   "opts": self.model._meta, "title": _("Price quote %(number)s") % {"number": quote.number},
                   "limit": settings.QUOTE_MAX_DISCOUNT_PERCENT,
                   "default_valid_until": timezone.localdate() + timedelta(days=settings.QUOTE_VALIDITY_DAYS)}
        return render(request, "admin/quotes/quote_price.html", context)


def _pricing_rows(quote: Quote) -> list[dict]:
    """Start from the latest version (after the buyer asked for changes) or the request."""
    start = {row["variant"].pk: row for row in services.quote_pricing_start(quote=quote)}
    latest = quote.latest_version()
    if latest is None:
        return [{**row, "unit_price": row["price"].unit_price if row["price"] else None} for row in start.values()]
    lines = list(latest.lines.select_related("variant__product"))
    prices = pricing.prices_for(customer=quote.customer, items=[(line.variant, line.quantity) for line in lines])
    tiers = pricing.tiers_for(customer=quote.customer, variant_ids=[line.variant_id for line in lines])
    return [{"variant": line.variant, "quantity": line.quantity, "unit_price": line.unit_price,
             "target_price": start.get(line.variant_id, {}).get("target_price"),
             "price": prices.get(line.variant_id), "tiers": tiers.get(line.variant_id, [])} for line in lines]


def _priced_lines(post, quote) -> tuple[list, list]:
    lines, errors = [], []
    skus = post.getlist("sku")
    quantities = post.getlist("quantity")
    unit_prices = post.getlist("unit_price")
    for sku, quantity, unit_price in zip(skus, quantities, unit_prices, strict=False):
        sku = sku.strip()
        if not sku or not quantity.strip() or quantity.strip() == "0":
            continue
        variant = Variant.objects.filter(sku=sku).first()
        try:
            parsed_quantity, parsed_price = int(quantity), Decimal(unit_price.strip().replace(",", "."))
        except (ValueError, InvalidOperation):
            errors.append(_("%(sku)s: enter a whole quantity and a price.") % {"sku": sku})
            continue
        if variant is None:
            errors.append(_("%(sku)s: unknown SKU.") % {"sku": sku})
            continue
        lines.append(services.PricedLine(variant.pk, parsed_quantity, parsed_price))
    if not lines and not errors:
        errors.append(_("Enter at least one line."))
    return lines, errors


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "name", "quantity", "list_price", "unit_price", "discount_percent", "line_total"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QuoteVersion)
class QuoteVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "sent_at", "subtotal", "currency", "max_discount_percent",
                    "needs_approval", "approved_by"]
    list_filter = ["needs_approval"]
    search_fields = ["quote__number"]
    list_select_related = ["quote", "approved_by"]
    inlines = [QuoteLineInline]
    readonly_fields = [field.name for field in QuoteVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
