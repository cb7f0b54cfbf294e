"""Records per second: decoding product JSON to dicts, and decoding plus typed records.

The typed view must stay cheap: the target is that structuring N products into
`Product` records costs no more than `json.loads` of the same N products. The records
are the documented "List all products" example records, varied per record (numbers,
names, prices, dates) so that no two are alike.

    python -m benchmarks.bench_models              # 20,000 records in pages of 100
    python -m benchmarks.bench_models 100000       # 100,000 records in pages of 100
    python -m benchmarks.bench_models 20000 0      # 20,000 records in one body
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


def product_records(n: int) -> list[dict[str, Any]]:
    """n distinct product records made from the documented ones."""
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
    return records


def product_pages(n: int, page_size: int | None) -> list[str]:
    """`{"products": [...]}` response bodies holding n records, page_size per body."""
    records = product_records(n)
    size = page_size or n
    return [json.dumps({"products": records[i : i + size]}, ensure_ascii=False) for i in range(0, n, size)]


def run(n: int = 20_000, page_size: int | None = 100, repeat: int = 5) -> dict[str, float]:
    """Time json.loads alone and json.loads + structure_many on n product records.

    The records come as response bodies of `page_size` records (100 is the most a product
    list page holds; None puts all n in one body). Each body is decoded, then structured,
    in turn, the way the client reads pages, and the records are kept, the way a caller
    collecting a catalogue keeps them. The best of `repeat` runs is kept for each part.
    Returns records/s for decoding only (`json_rps`), for structuring only
    (`structure_rps`), for both (`typed_rps`), and `ratio`: structuring time over decoding
    time (the target is <= 1.0).
    """
    pages = product_pages(n, page_size)
    structure_many(json.loads(pages[0])["products"][:10], Product)  # build the hooks first
    decode_s = structure_s = float("inf")
    for _ in range(repeat):
        gc.collect()
        kept: list[list[Product]] = []
        decoding = structuring = 0.0
        for text in pages:
            start = time.perf_counter()
            page = json.loads(text)
            middle = time.perf_counter()
            kept.append(structure_many(page["products"], Product))
            end = time.perf_counter()
            decoding += middle - start
            structuring += end - middle
        decode_s = min(decode_s, decoding)
        structure_s = min(structure_s, structuring)
        del kept
    typed_s = decode_s + structure_s
    result = {
        "records": float(n),
        "page_size": float(page_size or n),
        "json_rps": n / decode_s,
        "structure_rps": n / structure_s,
        "typed_rps": n / typed_s,
        "ratio": structure_s / decode_s,
    }
    print(
        f"{n} products in bodies of {page_size or n}: json.loads {result['json_rps']:,.0f} rec/s; "
        f"structure {result['structure_rps']:,.0f} rec/s; "
        f"json.loads + structure {result['typed_rps']:,.0f} rec/s; "
        f"structuring / decoding time = {result['ratio']:.2f} (target <= 1.00)"
    )
    return result


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    run(count, size or None)
