"""One error format for the whole API: ``{"error": {"code", "message", "fields"}}``.

Every refusal, whether DRF raised it (validation, authentication, a missing object) or a service
did (``ApplicationError``), reaches the client in this shape, so a client needs one error path.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from segplatform.errors import ApplicationError

logger = logging.getLogger(__name__)

MESSAGES = {
    "not_found": "Nothing here: the object does not exist or belongs to a project you are not a member of.",
    "invalid": "Some fields are missing or wrong: see fields for what to correct.",
}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {text}" for key, value in detail.items() for text in _flatten(value)]
    if isinstance(detail, list):
        return [text for item in detail for text in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> tuple[str, dict[str, list[str]]]:
    """A validation error's summary and its messages per field (nested fields are dotted)."""
    if not isinstance(detail, dict):
        messages = _flatten(detail)
        return (" ".join(messages) or MESSAGES["invalid"]), {}
    fields = {str(key): _flatten(value) for key, value in detail.items()}
    general = fields.pop("non_field_errors", [])
    summary = " ".join(general) if general else MESSAGES["invalid"]
    if general and fields:
        summary += " " + MESSAGES["invalid"]
    return summary, fields


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception hook: map every known refusal to the one error body."""
    if isinstance(exc, ApplicationError):
        set_rollback()
        fields = getattr(exc, "fields", None) or ({exc.field: [exc.message]} if exc.field else {})
        return Response(error_body("invalid", exc.message, fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return Response(
            error_body(
                "too_large",
                f"The request body is larger than the {limit} MB the API reads: send files as "
                "multipart uploads to /api/v1/datasets/, and keep JSON bodies small.",
            ),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(MESSAGES["not_found"])
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        # Unexpected: log it with the traceback, answer without one.
        logger.exception("unexpected error in %s", context.get("view").__class__.__name__)
        return Response(
            error_body(
                "server_error",
                "The server stopped on an unexpected error. It has been logged; please try again.",
            ),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        message, fields = _fields(exc.detail)
        return Response(error_body("invalid", message, fields), status=exc.status_code, headers=headers)
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    message = " ".join(_flatten(exc.detail))
    return Response(error_body(str(code), message), status=exc.status_code, headers=headers)
