"""Realistic mix: JSON round trips, regular expressions, sorting and small classes.

    python benchmarks/workloads/mixed.py [--scale S]

Stands for typical application code: a moderate call rate spread over Python methods,
properties, dataclasses and C-implemented library functions (json, re, sorted with key
functions). About 1-2 s unprofiled at scale 1 on a 2-core VM. Deterministic (seeded
``random``); self-checks its results and exits non-zero on a mismatch. Hot functions carry
a bare ``@profile`` for ``kernprof -l``; without kernprof it is the identity.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import asdict, dataclass, field

from _workload import parse_scale, profile

LOG_RE = re.compile(
    r"(?P<ip>\d+\.\d+\.\d+\.\d+) - (?P<user>\w+) \[(?P<ts>[^\]]+)\] "
    r'"(?P<method>GET|POST|PUT) (?P<path>/[\w/.-]*) HTTP/1\.[01]" (?P<status>\d{3}) (?P<size>\d+)'
)
WORD_RE = re.compile(r"[A-Za-z]+")


@dataclass
class Order:
    order_id: int
    customer: str
    items: list[dict[str, float]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(item["price"] * item["qty"] for item in self.items)

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags


class Inventory:
    """A small stateful class so method dispatch and attribute access show up."""

    def __init__(self) -> None:
        self.stock: dict[str, int] = {}
        self.log: list[str] = []

    def add(self, sku: str, qty: int) -> None:
        self.stock[sku] = self.stock.get(sku, 0) + qty

    def take(self, sku: str, qty: int) -> bool:
        have = self.stock.get(sku, 0)
        if have < qty:
            self.log.append(f"short {sku}")
            return False
        self.stock[sku] = have - qty
        return True


@profile
def make_orders(rng: random.Random, n: int) -> list[Order]:
    customers = [f"cust{i:04d}" for i in range(200)]
    tags = ["rush", "gift", "bulk", "intl", "promo"]
    orders = []
    for i in range(n):
        items = [
            {
                "sku": float(rng.randrange(500)),
                "price": round(rng.uniform(1, 99), 2),
                "qty": float(rng.randrange(1, 6)),
            }
            for _ in range(rng.randrange(1, 6))
        ]
        orders.append(Order(i, rng.choice(customers), items, rng.sample(tags, rng.randrange(3))))
    return orders


@profile
def json_round_trip(orders: list[Order]) -> list[Order]:
    text = json.dumps([asdict(o) for o in orders])
    return [Order(**d) for d in json.loads(text)]


@profile
def make_log(rng: random.Random, n: int) -> list[str]:
    methods = ["GET", "POST", "PUT"]
    paths = ["/", "/api/v1/items", "/static/app.js", "/login", "/api/v1/orders/42"]
    return [
        f"10.0.{rng.randrange(256)}.{rng.randrange(256)} - user{rng.randrange(50)} "
        f'[12/Mar/2024:10:{rng.randrange(60):02d}:00] "{rng.choice(methods)} '
        f'{rng.choice(paths)} HTTP/1.1" {rng.choice((200, 200, 200, 404, 500))} '
        f"{rng.randrange(10_000)}"
        for _ in range(n)
    ]


@profile
def parse_log(lines: list[str]) -> dict[str, int]:
    by_status: dict[str, int] = {}
    for line in lines:
        m = LOG_RE.match(line)
        if m is None:
            continue
        status = m.group("status")
        by_status[status] = by_status.get(status, 0) + int(m.group("size"))
    return by_status


@profile
def word_counts(text: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for w in WORD_RE.findall(text):
        w = w.lower()
        counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]


@profile
def rank_orders(orders: list[Order]) -> list[Order]:
    by_total = sorted(orders, key=lambda o: o.total, reverse=True)
    by_customer = sorted(by_total, key=lambda o: (o.customer, -o.order_id))
    return [o for o in by_customer if o.has_tag("rush") or o.total > 200]


@profile
def run_inventory(orders: list[Order]) -> int:
    inv = Inventory()
    for sku in range(500):
        inv.add(str(float(sku)), 12)
    filled = 0
    for o in orders:
        if all(inv.take(str(item["sku"]), int(item["qty"])) for item in o.items):
            filled += 1
    return filled


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rng = random.Random(20240312)
    n = max(10, int(8_000 * scale))
    orders = make_orders(rng, n)
    orders2 = json_round_trip(orders)
    if orders2 != orders:
        print("json round trip mismatch", file=sys.stderr)
        return 1
    lines = make_log(rng, 4 * n)
    by_status = parse_log(lines)
    if set(by_status) != {"200", "404", "500"}:
        print(f"log parse mismatch: {sorted(by_status)}", file=sys.stderr)
        return 1
    top = word_counts(" ".join(lines) * 2)
    if top[0][1] < 4 * n:
        print(f"word count mismatch: {top[:3]}", file=sys.stderr)
        return 1
    ranked = rank_orders(orders2)
    filled = run_inventory(ranked)
    if not 0 < filled <= len(ranked):
        print(f"inventory mismatch: {filled}", file=sys.stderr)
        return 1
    print(f"mixed ok: {len(orders)} orders, {len(ranked)} ranked, {filled} filled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
