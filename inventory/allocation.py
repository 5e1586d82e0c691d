"""Multi-warehouse allocation planning: pure functions over already-loaded stock levels."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PlanLine:
    variant_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    quantity: int
    ship_days: int | None = None

    def as_dict(self) -> dict:
        return {"variant_id": self.variant_id, "sku": self.sku, "warehouse_id": self.warehouse_id,
                "warehouse": self.warehouse_code, "quantity": self.quantity, "ship_days": self.ship_days}


@dataclass(frozen=True)
class AllocationPlan:
    """Where each line ships from. A line appears more than once only when it had to be split."""

    reference: str
    lines: tuple[PlanLine, ...] = field(default_factory=tuple)

    def by_warehouse(self) -> dict[int, list[PlanLine]]:
        grouped: dict[int, list[PlanLine]] = defaultdict(list)
        for line in self.lines:
            grouped[line.warehouse_id].append(line)
        return dict(grouped)

    @property
    def is_split(self) -> bool:
        variants = [line.variant_id for line in self.lines]
        return len(variants) != len(set(variants))

    @property
    def ship_days(self) -> int | None:
        days = [line.ship_days for line in self.lines if line.ship_days is not None]
        return max(days) if days else None

    def as_dict(self) -> dict:
        return {"reference": self.reference, "ship_days": self.ship_days, "split": self.is_split,
                "lines": [line.as_dict() for line in self.lines]}


def plan_lines(*, wanted: dict[int, int], levels, region: str | None, now: datetime,
               available=lambda level: level.on_hand - level.reserved):
    """Plan each (variant → quantity) over the candidate stock levels.

    Per line: the warehouse that can ship the WHOLE line soonest to `region` (ties: more
    stock, then pk); only when no single warehouse has enough, split across warehouses in
    order of shipping days. Returns (list of (level, quantity, ship_days), shortages).
    """
    by_variant = defaultdict(list)
    for level in levels:
        if level.warehouse.is_active and level.variant_id in wanted:
            by_variant[level.variant_id].append(level)
    plan, shortages = [], []
    for variant_id, quantity in wanted.items():
        options = sorted(
            ((level.warehouse.ship_days(region=region, now=now), level) for level in by_variant[variant_id]),
            key=lambda item: (item[0], -available(item[1]), item[1].pk),
        )
        total = sum(max(available(level), 0) for _days, level in options)
        if total < quantity:
            shortages.append({"variant_id": variant_id, "requested": quantity, "available": total})
            continue
        whole = next(((days, level) for days, level in options if available(level) >= quantity), None)
        if whole is not None:
            plan.append((whole[1], quantity, whole[0]))
            continue
        remaining = quantity
        for days, level in options:
            take = min(max(available(level), 0), remaining)
            if take:
                plan.append((level, take, days))
                remaining -= take
            if not remaining:
                break
    return plan, shortages
