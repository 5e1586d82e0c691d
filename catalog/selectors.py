"""Reads of the catalog. Customer-facing ones take `customer=` (a CustomerProfile, or
None for anonymous and staff pricing) so "only what your catalog allows" lives here."""

from django.db.models import Prefetch, Q, QuerySet

from .exceptions import NotInCatalog
from .models import CatalogRule, Category, Product, Variant


def category_descendants(*, category_ids, categories: list[Category] | None = None) -> set[int]:
    """The given categories and every category below them (one query for the whole tree)."""
    if categories is None:
        categories = list(Category.objects.only("id", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category.pk)
    found, stack = set(), list(category_ids)
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return found


def catalog_filter_for(*, customer) -> Q:
    """A Q over Product that keeps what the customer's company catalog allows (constant
    queries: the company's rules, and the category tree when a rule names a category)."""
    company_id = getattr(customer, "company_id", None)
    if not company_id:
        return Q()
    rules = list(CatalogRule.objects.filter(company_id=company_id).values_list("effect", "category_id", "product_id"))
    if not rules:
        return Q()
    categories = None
    if any(category_id for _effect, category_id, _product in rules):
        categories = list(Category.objects.only("id", "parent_id"))

    def matches(effect: str) -> Q | None:
        category_ids = [c for e, c, _p in rules if e == effect and c]
        product_ids = [p for e, _c, p in rules if e == effect and p]
        if not category_ids and not product_ids:
            return None
        q = Q(pk__in=product_ids) if product_ids else Q(pk__in=[])
        if category_ids:
            q |= Q(category_id__in=category_descendants(category_ids=category_ids, categories=categories))
        return q

    allowed = Q()
    included, excluded = matches(CatalogRule.Effect.INCLUDE), matches(CatalogRule.Effect.EXCLUDE)
    if included is not None:
        allowed &= included
    if excluded is not None:
        allowed &= ~excluded
    return allowed


def _prefixed(q: Q, prefix: str) -> Q:
    """Re-root a Q over Product onto a relation (e.g. "product__")."""
    clone = Q(*(), _connector=q.connector, _negated=q.negated)
    for child in q.children:
        if isinstance(child, Q):
            clone.children.append(_prefixed(child, prefix))
        else:
            key, value = child
            clone.children.append((prefix + key, value))
    return clone


def products_visible_to(*, customer, include_inactive: bool = False) -> QuerySet[Product]:
    """Active products in active categories that the customer's catalog allows."""
    products = Product.objects.all()
    if not include_inactive:
        products = products.filter(is_active=True, category__is_active=True)
    return products.filter(catalog_filter_for(customer=customer))


def variants_visible_to(*, customer, include_inactive: bool = False) -> QuerySet[Variant]:
    """Active variants of visible products: what the customer may see, price, add to a
    cart, quote and order."""
    variants = Variant.objects.all()
    if not include_inactive:
        variants = variants.filter(is_active=True, product__is_active=True, product__category__is_active=True)
    return variants.filter(_prefixed(catalog_filter_for(customer=customer), "product__"))


def variant_get_for_customer(*, customer, variant_id: int | None = None, sku: str | None = None) -> Variant:
    """The variant if the customer's catalog allows it; NotInCatalog (404) otherwise,
    exactly as for a variant that does not exist."""
    if variant_id is None and not sku:
        raise NotInCatalog()
    lookup = {"pk": variant_id} if variant_id is not None else {"sku": sku}
    variant = variants_visible_to(customer=customer).select_related("product").filter(**lookup).first()
    if variant is None:
        raise NotInCatalog()
    return variant


def product_list_for_customer(*, customer, search: str = "", category: Category | None = None,
                              include_inactive: bool = False) -> QuerySet[Product]:
    """Visible products with their visible variants prefetched, for a catalog page."""
    products = products_visible_to(customer=customer, include_inactive=include_inactive)
    if search:
        products = products.filter(
            Q(name__icontains=search) | Q(description__icontains=search) | Q(variants__sku__icontains=search)
        ).distinct()
    if category is not None:
        products = products.filter(category_id__in=category_descendants(category_ids=[category.pk]))
    variants = Variant.objects.order_by("sku")
    if not include_inactive:
        variants = variants.filter(is_active=True)
    return products.select_related("category").prefetch_related(Prefetch("variants", queryset=variants))


def product_get_for_customer(*, customer, slug: str | None = None, pk: int | None = None) -> Product:
    lookup = {"slug": slug} if slug is not None else {"pk": pk}
    product = product_list_for_customer(customer=customer).filter(**lookup).first()
    if product is None:
        raise NotInCatalog()
    return product


def categories_visible_to(*, customer) -> list[Category]:
    """Active categories holding at least one visible product (or above one), in tree order."""
    categories = list(Category.objects.filter(is_active=True).only("id", "parent_id", "name", "slug", "position"))
    with_products = set(products_visible_to(customer=customer).values_list("category_id", flat=True).distinct())
    by_id = {category.pk: category for category in categories}
    keep = set()
    for category_id in with_products:
        while category_id is not None and category_id in by_id and category_id not in keep:
            keep.add(category_id)
            category_id = by_id[category_id].parent_id
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        if category.pk in keep:
            children.setdefault(category.parent_id if category.parent_id in keep else None, []).append(category)
    ordered: list[Category] = []

    def walk(parent_id, depth):
        for category in children.get(parent_id, []):
            category.depth = depth
            ordered.append(category)
            walk(category.pk, depth + 1)

    walk(None, 0)
    return ordered
