"""Records per second: decoding product JSON to dicts, and decoding plus typed records.

The typed view must stay cheap: the target is that structuring N products into
`Product` records costs no more than `json.loads` of the same N products. The records
are the documented "List all products" example records, varied per record (numbers,
names, prices, dates) so that no two are alike.

    python -m benchmarks.bench_models          # 20,000 records
    python -m benchmarks.bench_models 100000
"""

from __future__ import annotations

import copy
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from cafe24_async.models import structure_many
from cafe24_async.models.generated import Product

EXAMPLES = Path(__file__).resolve().parent.parent / "tests" / "models" / "examples" / "admin.json"


def documented_products() -> list[dict[str, Any]]:
    """The product records of the documented "List all products" response."""
    for row in json.loads(EXAMPLES.read_text(encoding="utf-8")):
        if row["method"] == "GET" and row["route_path"] == "/api/v2/admin/products":
            products: list[dict[str, Any]] = row["body"]["products"]
            return products
    raise LookupError("no documented product list example")


def product_page(n: int) -> str:
    """A `{"products": [...]}` document of n distinct product records."""
    templates = documented_products()
    records = []
    for i in range(n):
        record = copy.deepcopy(templates[i % len(templates)])
        record["product_no"] = i + 1
        record["product_code"] = f"P{i:07d}"
        record["product_name"] = f"Product {i}"
        record["price"] = f"{1000 + i % 9000}.00"
        record["created_date"] = f"2018-{1 + i % 12:02d}-{1 + i % 28:02d}T13:52:49+09:00"
        records.append(record)
    return json.dumps({"products": records}, ensure_ascii=False)


def run(n: int = 20_000, repeat: int = 7) -> dict[str, float]:
    """Time json.loads alone and json.loads + structure_many on n product records.

    The two are timed in turns, `repeat` times, and the best of each is kept, so that a
    busy machine slows both alike. Returns records/s for decoding only (`json_rps`), for
    structuring only (`structure_rps`), for both (`typed_rps`), and `ratio`: structuring
    time over decoding time (the target is <= 1.0).
    """
    text = product_page(n)
    structure_many(json.loads(text)["products"][:10], Product)  # build the hooks first
    decode_s = structure_s = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        page = json.loads(text)
        decode_s = min(decode_s, time.perf_counter() - start)
        start = time.perf_counter()
        records = structure_many(page["products"], Product)
        structure_s = min(structure_s, time.perf_counter() - start)
        del page, records
    typed_s = decode_s + structure_s
    result = {
        "records": float(n),
        "json_rps": n / decode_s,
        "structure_rps": n / structure_s,
        "typed_rps": n / typed_s,
        "ratio": structure_s / decode_s,
    }
    print(
        f"{n} products: json.loads {result['json_rps']:,.0f} rec/s; "
        f"structure {result['structure_rps']:,.0f} rec/s; "
        f"json.loads + structure {result['typed_rps']:,.0f} rec/s; "
        f"structuring / decoding time = {result['ratio']:.2f} (target <= 1.00)"
    )
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
