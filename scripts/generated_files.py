"""Writing generated files, or checking that they are current (`--check`).

Shared by the generators in this folder, so each says only what it generates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_or_check(outputs: dict[Path, str], script: str, description: str) -> int:
    """Write `outputs` (path -> text), or with `--check` report the stale ones; the exit code."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    args = parser.parse_args()
    stale = []
    for target, text in outputs.items():
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(target.relative_to(ROOT)))
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/{script}")
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(outputs)} files; changed: {stale or 'none'}")
    return 0
