"""Seeded faults of the OAuth token endpoint.

A refresh is the one call whose failure can cost a mall its authorisation: the
refresh token rotates on every use. So the client must survive a token endpoint
that fails *before* rotating anything (500 or 503: safe to try again), and must
keep the last good pair when the endpoint rotates the pair and then sends an
answer it cannot read (no or a garbage `expires_at`, bytes that are not UTF-8,
text that is not JSON). Each mall draws from its own generator seeded with the
seed and the mall id, exactly two numbers per token request, so the same token
requests in the same order meet the same faults.
"""

from __future__ import annotations

import enum
import random
from typing import Any

import attrs

from cafe24_async.sandbox.config import TokenFaultConfig
from cafe24_async.sandbox.encoding import dump_json

#: Statuses of an injected token-endpoint failure (answered before anything rotates).
ERROR_STATUSES = (500, 503)
DAMAGE_KINDS = frozenset({"no_expires_at", "bad_expires_at", "not_utf8", "not_json"})


class TokenFaultKind(enum.Enum):
    NONE = "none"
    ERROR = "error"
    DAMAGE = "damage"


@attrs.frozen(slots=True)
class TokenFault:
    kind: TokenFaultKind
    #: HTTP status of an ERROR fault, else 0.
    status: int = 0
    #: One of `DAMAGE_KINDS` for a DAMAGE fault, else "".
    damage: str = ""


NO_TOKEN_FAULT = TokenFault(TokenFaultKind.NONE)


class TokenFaultInjector:
    """Decides the fault, if any, of each token request to one mall."""

    __slots__ = ("_config", "_random")

    def __init__(self, config: TokenFaultConfig, mall_id: str) -> None:
        unknown = set(config.damage_kinds) - DAMAGE_KINDS
        if unknown or not config.damage_kinds:
            raise ValueError(f"damage_kinds must be a non-empty subset of {sorted(DAMAGE_KINDS)}")
        self._config = config
        self._random = random.Random(f"token:{config.seed}:{mall_id}")

    def next(self) -> TokenFault:
        config = self._config
        if not config.enabled:
            return NO_TOKEN_FAULT
        draw = self._random.random()
        pick = self._random.random()
        if draw < config.error_rate:
            return TokenFault(TokenFaultKind.ERROR, status=ERROR_STATUSES[int(pick * len(ERROR_STATUSES))])
        if draw < config.error_rate + config.damage_rate:
            kinds = config.damage_kinds
            return TokenFault(TokenFaultKind.DAMAGE, damage=kinds[int(pick * len(kinds))])
        return NO_TOKEN_FAULT


def damaged_body(damage: str, answer: dict[str, Any]) -> bytes:
    """The bytes a damaged 200 carries instead of the documented token `answer`."""
    if damage == "no_expires_at":
        return dump_json({k: v for k, v in answer.items() if k != "expires_at"})
    if damage == "bad_expires_at":
        return dump_json({**answer, "expires_at": "in two hours, more or less"})
    whole = dump_json(answer)
    if damage == "not_utf8":
        return whole.replace(b'"mall_id"', b'"mall_\xff\xfeid"', 1)
    return whole[: len(whole) // 2]  # not_json: the answer cut in half
