"""The errors a webhook receiver raises, all of them `Cafe24Error`s.

A receiver turns each into an HTTP answer (400, 403, 413, 503); code that
calls `parse_event` or `Dispatcher.submit` directly catches them by meaning.
No message ever holds the API key or a header value.
"""

from __future__ import annotations

from cafe24_async.errors import Cafe24Error


class WebhookError(Cafe24Error):
    """Base class of the webhook errors."""


class WebhookPayloadError(WebhookError, ValueError):
    """The body is not a Cafe24 webhook: not JSON, not an object, no usable
    `event_no`, or a `resource` that is not an object."""


class WebhookVerificationError(WebhookError):
    """A delivery failed verification (a wrong or missing key, or a sender
    address outside the allowlist); answered 403."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"webhook refused: {reason}")


class WebhookQueueFullError(WebhookError):
    """The handler queue stayed full for the receiver's whole enqueue timeout;
    answered 503 so that Cafe24 delivers the event again later."""
