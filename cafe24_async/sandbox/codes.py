"""Cafe24-style entity codes such as `P000000X`, `B000000A` and `P000000A000A`.

Cafe24 spells codes as a letter prefix and a zero-padded bijective base-26
number (1 -> A, 26 -> Z, 27 -> AA); product 24 is `P000000X` in the docs. Codes
of equal width sort in number order, which the ordered collections rely on.
"""

from __future__ import annotations

import string

_LETTERS = string.ascii_uppercase


def letters(number: int, width: int) -> str:
    """`number` in bijective base 26, left-padded with "0" to `width` (0 is all zeros)."""
    if number < 0:
        raise ValueError("code numbers are not negative")
    digits: list[str] = []
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        digits.append(_LETTERS[remainder])
    text = "".join(reversed(digits))
    if len(text) > width:
        raise ValueError(f"code number too large for width {width}")
    return text.rjust(width, "0")


def product_code(product_no: int) -> str:
    return "P" + letters(product_no, 7)


def variant_code(product_no: int, index: int) -> str:
    """The `index`-th (0-based) variant of a product: first is `...000A`."""
    return product_code(product_no) + letters(index + 1, 4)


def entity_code(prefix: str, number: int) -> str:
    """Brand, supplier, manufacturer codes: number 0 is the default `B0000000`."""
    return prefix + letters(number, 7)
