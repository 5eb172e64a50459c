"""The error hierarchy of Keel; one module (channels.http) maps these types to HTTP statuses."""

from __future__ import annotations


class KeelError(Exception):
    """Base of every error Keel raises on purpose."""

    code = "keel_error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidRequest(KeelError):
    """The caller sent something malformed; the message says what is accepted."""

    code = "invalid_request"


class PayloadTooLarge(InvalidRequest):
    """The request body is over the size limit; the message names the limit."""

    code = "payload_too_large"


class UnsupportedMediaType(InvalidRequest):
    """The request body is not sent as a type the endpoint accepts; the message names the accepted type."""

    code = "unsupported_media_type"


class ConfigurationError(KeelError):
    """A setting is missing or wrong; raised at start-up."""

    code = "configuration_error"


class Unauthenticated(KeelError):
    """No identity, or an identity that cannot be trusted."""

    code = "unauthenticated"


class Forbidden(KeelError):
    """The principal is known but not allowed to do this."""

    code = "forbidden"


class NotFound(KeelError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"


class Conflict(KeelError):
    """A concurrent change won; the caller may retry."""

    code = "conflict"


class RateLimited(KeelError):
    """Too many requests; retry after the given number of seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class BudgetExceeded(RateLimited):
    """A token budget for the user or tenant is spent."""

    code = "budget_exceeded"


class ServiceUnavailable(KeelError):
    """A dependency is down; the message is safe to show to the user."""

    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 30, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ModelUnavailable(ServiceUnavailable):
    """No model in the fallback chain could answer."""

    code = "model_unavailable"


class SearchUnavailable(ServiceUnavailable):
    """The knowledge base could not be searched."""

    code = "search_unavailable"


class AuditUnavailable(ServiceUnavailable):
    """The audit trail cannot be written, so the turn is refused (fail closed)."""

    code = "audit_unavailable"


class StoreUnavailable(ServiceUnavailable):
    """The conversation store could not be read or written."""

    code = "store_unavailable"
