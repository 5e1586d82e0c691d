from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django_fsm_log.models import StateLog

from customers.models import CustomerProfile

from .exceptions import QuoteNotFound
from .models import Quote, QuoteLine, QuoteVersion


def quotes_visible_to(*, customer: CustomerProfile) -> QuerySet[Quote]:
    """A customer's own quotes; approvers and company admins see their company's."""
    if customer.can_approve and customer.company_id:
        return Quote.objects.filter(Q(customer=customer) | Q(company_id=customer.company_id))
    return Quote.objects.filter(customer=customer)


def quote_list_for_customer(*, customer: CustomerProfile) -> QuerySet[Quote]:
    return (quotes_visible_to(customer=customer).select_related("customer__user", "order")
            .annotate(version_count=Count("versions", filter=Q(versions__sent_at__isnull=False)))
            .order_by("-requested_at", "-pk"))


def quote_get_for_customer(*, customer: CustomerProfile, number: str) -> Quote:
    """404 (not 403) for anyone else's quote, so existence does not leak."""
    quote = (quotes_visible_to(customer=customer).filter(number=number)
             .select_related("customer__user", "company", "order").first())
    if quote is None:
        raise QuoteNotFound()
    return quote


def quote_versions(*, quote: Quote, include_drafts: bool = False) -> list[QuoteVersion]:
    """Versions with their lines, oldest first (two queries). Buyers see sent ones only."""
    versions = quote.versions.prefetch_related(Prefetch("lines", queryset=QuoteLine.objects.order_by("pk")))
    if not include_drafts:
        versions = versions.filter(sent_at__isnull=False)
    return list(versions.order_by("number"))


def versions_side_by_side(versions: list[QuoteVersion]) -> list[dict]:
    """One row per SKU with each version's (quantity, unit price, line total) or None,
    so a template or an API client compares versions without aligning lines itself."""
    rows: dict[str, dict] = {}
    for index, version in enumerate(versions):
        for line in version.lines.all():
            row = rows.setdefault(line.sku, {"sku": line.sku, "name": line.name, "cells": [None] * len(versions)})
            row["cells"][index] = {"quantity": line.quantity, "unit_price": line.unit_price,
                                   "line_total": line.line_total, "list_price": line.list_price,
                                   "discount_percent": line.discount_percent}
    for row in rows.values():
        previous = None
        for cell in row["cells"]:
            if cell is not None:
                cell["changed"] = previous is not None and (
                    cell["quantity"] != previous["quantity"] or cell["unit_price"] != previous["unit_price"])
                previous = cell
    return list(rows.values())


def quote_timeline(*, quote: Quote, customer_view: bool = False) -> list[dict]:
    """Every transition (who, when, from, to, why); customers see no staff names."""
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Quote), object_id=quote.pk
    ).select_related("by").order_by("timestamp", "pk")
    labels = dict(Quote.Status.choices)
    entries = [{"at": quote.requested_at, "status": "requested", "status_display": str(labels["requested"]),
                "from": None, "by": None, "note": quote.notes}]
    for log in logs:
        by = None
        if log.by_id and not customer_view:
            by = log.by.get_username()
        elif log.by_id and not log.by.is_staff:
            by = log.by.get_full_name() or log.by.get_username()
        if customer_view and log.state in (Quote.Status.PENDING_APPROVAL, Quote.Status.APPROVED):
            continue  # internal steps
        entries.append({"at": log.timestamp, "status": log.state, "status_display": str(labels.get(log.state,
                                                                                                   log.state)),
                        "from": log.source_state, "by": by, "note": log.description or ""})
    return entries


def quote_url(quote: Quote) -> str:
    return settings.SITE_URL + reverse("quotes:detail", args=[quote.number])


def _version_payload(version: QuoteVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "version": version.number,
        "valid_until": version.valid_until.isoformat(),
        "subtotal": str(version.subtotal),
        "shipping": str(version.shipping) if version.shipping is not None else None,
        "max_discount_percent": str(version.max_discount_percent) if version.max_discount_percent is not None
        else None,
        "note": version.note,
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": str(line.unit_price),
                   "list_price": str(line.list_price) if line.list_price is not None else None,
                   "line_total": str(line.line_total)} for line in version.lines.all()],
    }


def quote_payload(quote: Quote) -> dict:
    """The JSON every quote.* event carries. `version` is the latest version (the draft
    staff work on, or the one sent); `lines`/`total` are its lines for the email layout."""
    version = quote.latest_version() if quote.pk else None
    body = _version_payload(version)
    requested = [{"sku": line.variant.sku, "name": line.variant.display_name, "quantity": line.quantity,
                  "target_price": str(line.target_price) if line.target_price is not None else None}
                 for line in quote.request_lines.select_related("variant__product")] if quote.pk else []
    return {
        "number": quote.number,
        "customer_id": quote.customer_id,
        "email": quote.customer.user.email,
        "company": quote.company.code if quote.company_id else None,
        "status": quote.status,
        "currency": quote.currency,
        "notes": quote.notes,
        "needed_by": quote.needed_by.isoformat() if quote.needed_by else None,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "requested_lines": requested,
        "version": body,
        "lines": body["lines"] if body else requested,
        "total": body["subtotal"] if body else None,
        "order_number": quote.order.number if quote.order_id else None,
        "url": quote_url(quote),
        "admin_url": settings.SITE_URL + reverse("admin:quotes_quote_change", args=[quote.pk]),
    }


def digest_summary(*, start, end) -> dict:
    """For the managers' daily digest (notifications.digest)."""
    new = Quote.objects.filter(requested_at__gte=start, requested_at__lt=end).count()
    open_counts = dict(Quote.objects.filter(status__in=Quote.OPEN).values_list("status").annotate(n=Count("pk")))
    labels = dict(Quote.Status.choices)
    lines = [_("%(count)s new requests for quote") % {"count": new}]
    lines += [f"{labels[status]}: {count}" for status, count in sorted(open_counts.items())]
    return {"title": _("Open quotes"), "lines": lines}
