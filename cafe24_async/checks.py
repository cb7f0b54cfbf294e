"""Checking the values a `Cafe24` client is built with, before anything is built.

A client is long-lived: a setting of the wrong type would otherwise surface much
later, deep in a request, as a `TypeError` far from its cause. The client's
checks raise `ConfigurationError`, a call's (`check_seconds`, `check_count`)
`ValidationError`, each naming the argument and the rule.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from cafe24_async.errors import ConfigurationError, ValidationError

S = TypeVar("S")

#: Largest number a numeric setting may hold (seconds, sizes, rates).
MAX_SETTING = 1e9


def number(name: str, value: Any, *, positive: bool = False, whole: bool = False) -> None:
    """A finite number of at least 0 (above 0 when `positive`; an int when `whole`)."""
    kind = "whole number" if whole else "number"
    rule = f"{name} must be a {kind} {'above' if positive else 'of at least'} 0, at most {MAX_SETTING:g}"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise ConfigurationError(rule)
    try:
        as_float = float(value)
    except OverflowError:
        raise ConfigurationError(rule) from None
    if not math.isfinite(as_float) or as_float < 0 or (positive and as_float == 0) or as_float > MAX_SETTING:
        raise ConfigurationError(rule)


def settings(name: str, value: S | None, kind: type[S]) -> S:
    """`value` (or the defaults) as a `kind` whose every numeric and flag field is sound."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise ConfigurationError(f"{name} must be a {kind.__name__}, not {type(value).__name__}")
    for field in attrs.fields(kind):  # type: ignore[arg-type]
        _field(f"{name}.{field.name}", getattr(value, field.name), field)
    return value


def _field(name: str, value: Any, field: attrs.Attribute[Any]) -> None:
    optional = "None" in str(field.type)
    if value is None and optional:
        return
    default = field.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigurationError(f"{name} must be True or False")
    elif isinstance(default, (int, float)) or (default is None and optional and _numeric(field)):
        number(name, value, whole="int" in str(field.type) and "float" not in str(field.type))


def _numeric(field: attrs.Attribute[Any]) -> bool:
    text = str(field.type)
    return "int" in text or "float" in text


def text(name: str, value: Any, *, optional: bool = False) -> None:
    """Non-empty text (or None when `optional`)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be {'text or None' if optional else 'non-empty text'}")


def instance(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    """`value` is None or a `kind`."""
    if value is not None and not isinstance(value, kind):
        raise ConfigurationError(f"{name} must be {what}, not {type(value).__name__}")


#: The longest wait a call may be given, in seconds (about 115 days).
MAX_SECONDS = 10_000_000


def check_seconds(name: str, value: Any, where: str) -> float:
    """A positive, finite number of seconds up to `MAX_SECONDS`, or `ValidationError`."""
    rule = f"must be a positive number of seconds, at most {MAX_SECONDS:,}"
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError(name, rule, where)
    try:
        seconds = float(value)
    except (OverflowError, ValueError):
        raise ValidationError(name, rule, where) from None
    if not 0 < seconds <= MAX_SECONDS:  # NaN fails too
        raise ValidationError(name, rule, where)
    return seconds


def check_count(name: str, value: Any, where: str, low: int = 1) -> int:
    """A whole number of at least `low` (a bool is not one), or `ValidationError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(name, f"must be a whole number of at least {low}", where)
    return value
