"""The four Cafe24 APIs: where each lives, how it is authorised and paced.

The request path reads these definitions instead of special-casing an API: the
auth kind picks the credential sent, the limiter kind picks the pacing object,
`per_mall` says whether calls belong to a mall or to the partner account.
"""

from __future__ import annotations

from typing import Literal

import attrs

AuthKind = Literal["bearer", "client_id", "basic"]
LimiterKind = Literal["leaky_bucket", "token_bucket", "fixed_window"]


@attrs.frozen(slots=True)
class ApiDefinition:
    name: str
    #: Default base URL; `{mall_id}` is filled in for per-mall APIs.
    base_url: str
    auth: AuthKind
    limiter: LimiterKind
    per_mall: bool = True
    #: Query params the client fills in from the mall (Analytics wants `mall_id`).
    mall_query: tuple[str, ...] = ()


APIS: dict[str, ApiDefinition] = {
    "admin": ApiDefinition("admin", "https://{mall_id}.cafe24api.com", "bearer", "leaky_bucket"),
    "front": ApiDefinition("front", "https://{mall_id}.cafe24api.com", "client_id", "leaky_bucket"),
    "analytics": ApiDefinition(
        "analytics", "https://ca-api.cafe24data.com", "bearer", "token_bucket",
        mall_query=("mall_id",),
    ),
    "dcollection": ApiDefinition(
        "dcollection", "https://dcollection-api.cafe24.com", "basic", "fixed_window",
        per_mall=False,
    ),
}
