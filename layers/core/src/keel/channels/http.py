"""The HTTP edge: API Gateway proxy events in, proxy responses out; the one map from errors to statuses."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from keel.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidRequest,
    KeelError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
)

logger = logging.getLogger("keel.http")
M = TypeVar("M", bound=BaseModel)

# Ordered from specific to general; a subclass takes the status of its nearest listed ancestor.
STATUS_BY_ERROR: tuple[tuple[type[KeelError], int], ...] = (
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidRequest, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
    (ConfigurationError, 500),
)
MAX_BODY_BYTES = 64 * 1024
_SECURITY_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def status_for(error: KeelError) -> int:
    """The HTTP status of a Keel error, by type (never by message text)."""
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def correlation_id(event: Mapping[str, Any]) -> str:
    """The request's correlation id: the caller's X-Correlation-Id, API Gateway's request id, or a new one."""
    headers = _headers(event)
    supplied = headers.get("x-correlation-id", "")
    if supplied and len(supplied) <= 64 and supplied.replace("-", "").isalnum():
        return supplied
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or uuid.uuid4())


def bearer_token(event: Mapping[str, Any]) -> str:
    """The bearer token of the Authorization header, or Unauthenticated saying what is expected."""
    value = _headers(event).get("authorization", "")
    if not value:
        raise Unauthenticated("missing Authorization header; expected 'Authorization: Bearer <token>'")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


def parse_body(event: Mapping[str, Any], model: type[M]) -> M:
    """The JSON body validated into model, or InvalidRequest naming each bad field and what is accepted."""
    raw = event.get("body")
    if raw is None or raw == "":
        raise InvalidRequest("request body is empty; expected a JSON object")
    media_type = _headers(event).get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"request body is sent as {media_type}; send it as Content-Type: application/json")
    if event.get("isBase64Encoded"):
        import base64

        try:
            raw = base64.b64decode(raw).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequest("request body is not valid base64-encoded UTF-8") from exc
    size = len(str(raw).encode())
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc.args[0]}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(
            "request body is invalid: " + "; ".join(_describe(e) for e in exc.errors()),
            details={"fields": [".".join(str(p) for p in e["loc"]) for e in exc.errors()]},
        ) from None


def json_response(
    status: int, body: Any, *, correlation: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return {
        "statusCode": status,
        "headers": {**_SECURITY_HEADERS, "X-Correlation-Id": correlation, **(headers or {})},
        "body": json.dumps(payload),
    }


def error_response(error: Exception, *, correlation: str) -> dict[str, Any]:
    """A JSON error response; unknown errors become a 500 with the correlation id and no internals."""
    if not isinstance(error, KeelError):
        logger.exception("unhandled error", extra={"correlation_id": correlation})
        return json_response(
            500,
            {
                "error": {
                    "code": "internal_error",
                    "message": "something went wrong on our side; quote the correlation id to support",
                    "correlation_id": correlation,
                }
            },
            correlation=correlation,
        )
    status = status_for(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited | ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    body: dict[str, Any] = {"code": error.code, "message": error.message, "correlation_id": correlation}
    if error.details:
        body["details"] = error.details
    return json_response(status, {"error": body}, correlation=correlation, headers=headers)


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _describe(error: Mapping[str, Any]) -> str:
    location = ".".join(str(p) for p in error["loc"]) or "body"
    if error["type"] == "missing":
        return f"{location} is required"
    if error["type"] == "extra_forbidden":
        return f"{location} is not an accepted field"
    return f"{location}: {error['msg']}"
