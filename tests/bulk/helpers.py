"""What the bulk-write tests share: stock rows, input files, the command line against a sandbox."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

from cafe24_async import FileTokenStore, Token
from cafe24_async.sandbox import Sandbox, codes

VARIANTS = "products.variants.update_many"
INVENTORY = "products.variants.inventories.update"


def stock_rows(products: int, variants: int, base: int = 1000) -> list[dict[str, Any]]:
    """One row per variant, a quantity no generated variant has (the generator stays below 200)."""
    return [
        {"product_no": p, "variant_code": codes.variant_code(p, i), "quantity": base + p * variants + i}
        for p in range(1, products + 1)
        for i in range(variants)
    ]


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def exists(path: Path | str) -> bool:
    return Path(path).exists()


def journal_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def token_file(sb: Sandbox, mall: str, path: Path) -> Path:
    await FileTokenStore(path).save(mall, Token.from_response(sb.issue_token(mall)))
    return path


def apply_argv(sb: Sandbox, tokens: Path, resource: str, source: Path, *extra: str, mall: str = "acme") -> list[str]:
    """`cafe24-async apply` against the sandbox, fast: a quick bucket, a short stale window."""
    return [
        sys.executable, "-m", "cafe24_async", "apply", resource, "--in", str(source), "--mall", mall,
        "--base-url", sb.base_url, "--token-file", str(tokens), "--client-id", sb.config.client_id,
        "--leak-rate", str(sb.config.leak_rate), "--max-per-second", "0", "--quiet", *extra,
    ]


def cli_env(sb: Sandbox) -> dict[str, str]:
    return {**os.environ, "CAFE24_CLIENT_SECRET": sb.config.client_secret}


def applied_counts(sb: Sandbox, rows: list[dict[str, Any]], mall: str = "acme") -> tuple[int, int, int]:
    """(applied once, applied twice or more, never applied) over the rows' variants."""
    applied = sb.writes(mall).applied
    counts = [applied[("variant", r["variant_code"])] for r in rows]
    return sum(c == 1 for c in counts), sum(c > 1 for c in counts), sum(c == 0 for c in counts)
