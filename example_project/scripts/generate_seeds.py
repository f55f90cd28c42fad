"""Regenerate the example project's seeds. Deterministic: the same CSVs on every run.

    python example_project/scripts/generate_seeds.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CUSTOMERS, ORDERS, ORDER_ITEMS = 200, 500, 900

FIRST_NAMES = [
    "Ada", "Alan", "Amara", "Ben", "Chen", "Clara", "Dario", "Elena", "Farah", "Grace",
    "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Marta", "Noah", "Olga", "Priya", "Rafael",
    "Sofia", "Tomas", "Uma", "Viktor", "Wen", "Yara", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Andersen", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jansen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi",
    "Schmidt", "Tanaka", "Van Dijk", "Weber", "Young",
]  # fmt: skip
COUNTRIES = {"US": "USD", "CA": "USD", "GB": "USD", "DE": "EUR", "FR": "EUR", "ES": "EUR",
             "IT": "EUR", "NL": "EUR"}  # fmt: skip
PLANS = ["free", "free", "free", "starter", "pro", "enterprise"]
STATUSES = ["completed"] * 7 + ["shipped", "placed", "returned"]
PRODUCTS = {
    "Trail Runner Shoes": "89.00", "Merino Hoodie": "74.50", "Waterproof Jacket": "149.99",
    "Running Socks (3-pack)": "14.90", "Water Bottle": "19.00", "Daypack 20L": "59.95",
    "Headlamp": "34.00", "Cap": "22.00", "Trekking Poles": "79.00", "Thermal Leggings": "45.00",
}  # fmt: skip


def main() -> None:
    rng = random.Random(20250101)
    customers = [_customer(rng, n) for n in range(1, CUSTOMERS + 1)]
    # Some customers never order, as in any real shop.
    buyers = rng.sample(customers, 170)
    items_per_order = _split(rng, ORDER_ITEMS, ORDERS)

    orders, items = [], []
    for order_id, item_count in enumerate(items_per_order, start=1):
        customer = rng.choice(buyers)
        ordered_at = datetime(2024, 1, 1) + timedelta(seconds=rng.randrange(365 * 24 * 3600))
        ordered_at = max(ordered_at, datetime.combine(customer["signup_date"], datetime.min.time()))
        currency = COUNTRIES[customer["country"]]
        amount = Decimal("0")
        for _ in range(item_count):
            product = rng.choice(list(PRODUCTS))
            price, quantity = Decimal(PRODUCTS[product]), rng.choice([1, 1, 1, 2, 3])
            amount += price * quantity
            items.append({
                "order_item_id": len(items) + 1, "order_id": order_id, "product_name": product,
                "price": price, "quantity": quantity, "currency": currency,
            })  # fmt: skip
        orders.append({
            "order_id": order_id, "customer_id": customer["customer_id"],
            "ordered_at": ordered_at.isoformat(sep=" "), "status": rng.choice(STATUSES),
            "amount": amount,
        })  # fmt: skip

    _write("customers.csv", customers)
    _write("orders.csv", orders)
    _write("order_items.csv", items)


def _customer(rng: random.Random, customer_id: int) -> dict[str, object]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email_name = f"{first}.{last}".lower().replace(" ", "")
    return {
        "customer_id": customer_id,
        "first_name": first,
        "last_name": last,
        "email": f"{email_name}.{customer_id}@example.com",
        "country": rng.choice(list(COUNTRIES)),
        "signup_date": date(2023, 1, 1) + timedelta(days=rng.randrange(700)),
        "is_vip": rng.random() < 0.1,
        "plan": rng.choice(PLANS),
    }


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`parts` counts of at least 1 that add up to `total`."""
    counts = [1] * parts
    for _ in range(total - parts):
        counts[rng.randrange(parts)] += 1
    return counts


def _write(name: str, rows: list[dict[str, object]]) -> None:
    with open(SEEDS / name, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})


if __name__ == "__main__":
    main()
