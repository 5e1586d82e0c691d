from django.core.paginator import Paginator
from django.shortcuts import render

from customers.decorators import customer_required

from .exceptions import NotInCatalog
from .forms import CatalogSearchForm
from .pricing import price_tables_for
from .selectors import categories_visible_to, product_get_for_customer, product_list_for_customer

PAGE_SIZE = 24


def _availability(variant_ids: list[int]) -> dict[int, int]:
    """Sellable units when the inventory app offers them; a placeholder ("—") otherwise."""
    try:
        from inventory.selectors import availability_for
    except ImportError:
        return {}
    return availability_for(variant_ids=variant_ids)


def _priced_rows(customer, products) -> list[dict]:
    """One row per product with its variants, each with the customer's price (1 unit),
    tier table and availability: a constant number of queries for the whole page."""
    variant_ids = [variant.pk for product in products for variant in product.variants.all()]
    quotes, tiers = price_tables_for(customer=customer, variant_ids=variant_ids)
    stock = _availability(variant_ids) if variant_ids else {}
    return [
        {"product": product, "variants": [
            {"variant": variant, "quote": quotes.get(variant.pk), "tiers": tiers.get(variant.pk, []),
             "available": stock.get(variant.pk)}
            for variant in product.variants.all()
        ]}
        for product in products
    ]


@customer_required
def product_list(request):
    customer = request.customer
    categories = categories_visible_to(customer=customer)
    form = CatalogSearchForm(request.GET or None, categories=categories)
    search, category = "", None
    if form.is_valid():
        search = form.cleaned_data["q"]
        category = form.cleaned_data["category"]
    products = product_list_for_customer(customer=customer, search=search, category=category)
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "catalog/product_list.html", {
        "form": form, "page": page, "rows": _priced_rows(customer, list(page.object_list)),
        "categories": categories, "current_category": category, "query": query.urlencode(),
    })


@customer_required
def product_detail(request, slug):
    try:
        product = product_get_for_customer(customer=request.customer, slug=slug)
    except NotInCatalog:
        from django.http import Http404

        raise Http404
    return render(request, "catalog/product_detail.html", {"row": _priced_rows(request.customer, [product])[0]})
