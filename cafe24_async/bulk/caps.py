"""Which write routes take several objects per call, how many, and what names one object.

The route table says how a route is called, not whether its body may be
`{"requests": [...]}` nor how long that list may be; the reference gives no
per-route figure either. This table adds what is known, each row with where it
comes from. A write route that is not here is sent one row per call.

`item_key` names the body fields that identify one object of a call (a variant's
`variant_code`): a 207 answer is matched to the rows by position and checked by
these fields, and re-reading a bulk route's records finds each row's record by
them. Rows whose path values and item key are the same are the same record.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class BulkForm:
    """The list form of one write route."""

    method: str
    path: str
    #: Objects one call may carry.
    cap: int
    #: Body fields naming one object of the call.
    item_key: tuple[str, ...]
    source: str


#: The reference's general rule for lists, used where no route gives its own figure.
GENERAL_RULE = (
    "no per-route figure in the reference; 100 is its general rule for lists "
    "(Admin API reference, 'Check 100 products at a time')"
)
_FIELD_CODE_SHIPMENTS = "public field code: bulk shipment calls take at most 100 orders per call"
_VARIANTS = (
    "no per-call figure in the reference; a product lists at most 100 variants "
    "(cafe24.js generated docs: 'up to 100 variants per product'), so one call carries a product's variants"
)

BULK_FORMS: tuple[BulkForm, ...] = (
    BulkForm("PUT", "/api/v2/admin/products/{product_no}/variants", 100, ("variant_code",), _VARIANTS),
    BulkForm("POST", "/api/v2/admin/shipments", 100, ("order_id",), _FIELD_CODE_SHIPMENTS),
    BulkForm("PUT", "/api/v2/admin/shipments", 100, ("shipping_code",), _FIELD_CODE_SHIPMENTS),
    BulkForm("POST", "/api/v2/admin/fulfillments", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/orders", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/payments", 100, ("order_id",), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/cancellation", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/cancellation", 100, ("order_id", "claim_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/cancellationrequests", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/cancellationrequests", 100, ("order_id", "order_item_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/exchange", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/exchange", 100, ("order_id", "claim_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/exchangerequests", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/exchangerequests", 100, ("order_id", "order_item_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/return", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/return", 100, ("order_id", "claim_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/returnrequests", 100, ("order_id",), GENERAL_RULE),
    BulkForm("PUT", "/api/v2/admin/returnrequests", 100, ("order_id", "order_item_code"), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/labels", 100, ("order_item_code",), GENERAL_RULE),
    BulkForm("POST", "/api/v2/admin/customergroups/{group_no}/customers", 100, ("member_id",), GENERAL_RULE),
)

_BY_ROUTE = {(form.method, form.path): form for form in BULK_FORMS}


def bulk_form(method: str, path: str) -> BulkForm | None:
    """The list form of the write route `method path`, None when it takes one object."""
    return _BY_ROUTE.get((method, path))
