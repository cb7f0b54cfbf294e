"""Every documented response example survives structure -> unstructure unchanged.

The examples are extracted from the references by scripts/generate_models.py into
tests/models/examples/. Each root of each example is structured into the record class the
route answers with (plain JSON when there is none, e.g. counts), unstructured again and
compared with the original, both as data and as JSON text (so key order, explicit nulls and
number forms must come back too).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cafe24_async.models import Record, model_for, structure, structure_many, unstructure

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parent / "examples"

#: Response examples in the references (admin: 116 printed, the last cut short; front: 18).
EXPECTED_EXAMPLES = {"admin": 115, "front": 18}


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for api in ("admin", "front"):
        for row in json.loads((EXAMPLES / f"{api}.json").read_text(encoding="utf-8")):
            cases.append((api, row))
    return cases


CASES = load_cases()


def roundtrip(api: str, row: dict[str, Any]) -> list[type[Record]]:
    """Round-trip every root of one example; return the record classes used."""
    used: list[type[Record]] = []
    for root, value in row["body"].items():
        model = model_for(api, root, row["route_path"])
        if model is None:
            assert unstructure(value) == value
            continue
        typed = structure_many(value, model) if isinstance(value, list) else structure(value, model)
        items = typed if isinstance(typed, list) else [typed]
        assert all(isinstance(item, model) for item in items)
        back = unstructure(typed)
        assert back == value, f"{root}: {back!r} != {value!r}"
        assert json.dumps(back, ensure_ascii=False) == json.dumps(value, ensure_ascii=False)
        used.append(model)
    return used


@pytest.mark.parametrize(
    ("api", "row"),
    CASES,
    ids=[f"{api}-{row['method']}-{row['doc_path']}-{i}" for i, (api, row) in enumerate(CASES)],
)
def test_example_round_trips(api: str, row: dict[str, Any]) -> None:
    roundtrip(api, row)


def test_every_example_is_counted_and_typed_where_documented() -> None:
    per_api = {api: sum(1 for a, _ in CASES if a == api) for api in EXPECTED_EXAMPLES}
    assert per_api == EXPECTED_EXAMPLES
    typed = 0
    plain = 0
    models: set[str] = set()
    for api, row in CASES:
        used = roundtrip(api, row)
        typed += len(used)
        models.update(m.__name__ for m in used)
        plain += sum(1 for root in row["body"] if root == "count")
        # Every resource example (everything but counts) goes through a record class.
        assert len(used) == sum(1 for root in row["body"] if root != "count"), row["doc_path"]
    print(
        f"\n{len(CASES)} documented response examples round-trip: {typed} roots through "
        f"{len(models)} record classes, {plain} counts as plain JSON"
    )
    assert typed == 109
    assert plain == 24
    assert len(models) == 50


def test_example_routes_are_known() -> None:
    assert all(row["route_path"] for _, row in CASES)


def test_generated_files_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_models.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
