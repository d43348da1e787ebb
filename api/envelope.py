"""The response envelope of every API answer, the error codes, and request-body parsing.

``{"success": bool, "errors": [{"code": int, "message": str}], "messages": [], "result": ...}``

| code  | status | meaning                                             |
|-------|--------|-----------------------------------------------------|
| 1001  | 400    | the body is not a JSON object                       |
| 1002  | 400    | a field's value is invalid (the message names it)   |
| 1003  | 400    | an unknown field (the message names it)             |
| 1004  | 400    | the body is too large                               |
| 1005  | 400    | a malformed id in the URL                           |
| 10000 | 401    | missing, malformed, unknown, expired or revoked token |
| 10003 | 403    | the token lacks the scope, or its owner the permission |
| 10004 | 404    | no such account, or no such object in this account |
| 10005 | 405    | method not allowed                                  |
| 10009 | 409    | a concurrent change got there first; retry          |
| 7003  | 404    | no endpoint at that path (Cloudflare's "Could not route to …") |
| 7000  | 404    | with 7003: "No route for that URI"                  |
"""

from __future__ import annotations

import json
import re
import uuid

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import JsonResponse

MALFORMED = 1001
INVALID = 1002
UNKNOWN_FIELD = 1003
TOO_LARGE = 1004
BAD_ID = 1005
UNAUTHENTICATED = 10000
FORBIDDEN = 10003
NOT_FOUND = 10004
METHOD_NOT_ALLOWED = 10005
CONFLICT = 10009
NO_ROUTE_TO = 7003
NO_ROUTE = 7000

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32


class ApiError(Exception):
    """An answer other than success: raised anywhere below a view, turned into an envelope."""

    def __init__(self, status: int, errors: list[tuple[int, str]], headers: dict | None = None):
        super().__init__(errors)
        self.status, self.errors, self.headers = status, errors, headers or {}

    def response(self) -> JsonResponse:
        response = respond(None, status=self.status, errors=self.errors)
        for name, value in self.headers.items():
            response[name] = value
        return response


def respond(result, *, status: int = 200, errors=(), messages=()) -> JsonResponse:
    return JsonResponse(
        {"success": not errors, "errors": [{"code": code, "message": message} for code, message in errors],
         "messages": list(messages), "result": result},
        status=status, json_dumps_params={"ensure_ascii": False},
    )


def ok(result, result_info: dict | None = None) -> JsonResponse:
    """Success; a list answer also carries Cloudflare's ``result_info`` (see :mod:`api.pagination`)."""
    if result_info is None:
        return respond(result)
    return JsonResponse({"success": True, "errors": [], "messages": [], "result": result, "result_info": result_info},
                        json_dumps_params={"ensure_ascii": False})


def not_found(what: str = "No such object in this account.") -> ApiError:
    return ApiError(404, [(NOT_FOUND, what)])


def invalid(errors: dict[str, list[str]] | list[tuple[int, str]]) -> ApiError:
    if isinstance(errors, dict):
        errors = [(INVALID, message) for messages in errors.values() for message in messages]
    return ApiError(400, errors)


def from_validation_error(exc: ValidationError, rename: dict[str, str] | None = None) -> ApiError:
    """One error per message of ``exc`` (from :mod:`mfa_policies.validation` or a model), each
    ``"<field>: <words>"``: the refusal's words are the admin's, which name no field, so the API
    puts the field in front — its API name (``rename``: ``mfa_allowed_authenticators`` →
    ``mfa_config.allowed_authenticators``), or for one entry inside a value its exact place
    (``include[0]``, from :class:`~mfa_policies.validation.Placed`). The words then read as a
    clause: an ordinary capitalised first word is lowercased (``Only`` → ``only``; ``MFA``,
    ``AAGUID`` and quotes stay)."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        return ApiError(400, [(INVALID, message) for message in exc.messages])
    errors = []
    for field, field_errors in exc.error_dict.items():
        for error in field_errors:
            text = str(error.message % error.params if error.params else error.message)
            place = getattr(error.message, "path", None)
            if field == NON_FIELD_ERRORS:
                errors.append((INVALID, text))
            elif place:
                errors.append((INVALID, f"{_api_place(place, rename)}: {_clause(error.message.words)}"))
            else:
                errors.append((INVALID, f"{rename.get(field, field)}: {_clause(text)}"))
    return ApiError(400, errors)


def _api_place(path: str, rename: dict[str, str]) -> str:
    """``include[0]`` with its field renamed as the API calls it."""
    head = re.match(r"[A-Za-z_]+", path)
    name = head.group(0) if head else path
    return rename.get(name, name) + path[len(name):]


def _clause(words: str) -> str:
    first = words.split(" ", 1)[0]
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        return words[:1].lower() + words[1:]
    return words


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_strings(value, depth: int = 0) -> None:
    """Databases refuse NUL characters and lone surrogates; refuse them here, as bad input."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("strings may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("strings must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, depth + 1)
            _check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, depth + 1)


def parse_body(request) -> dict:
    """The request body as a JSON object, or an :class:`ApiError` (400) saying why not."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise ApiError(400, [(TOO_LARGE, f"The request body is larger than {MAX_BODY_BYTES} bytes.")])
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(400, [(TOO_LARGE, f"The request body is larger than {MAX_BODY_BYTES} bytes.")]) from None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, [(TOO_LARGE, f"The request body is larger than {MAX_BODY_BYTES} bytes.")])
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        _check_strings(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, [(MALFORMED, f"The request body is not valid JSON: {str(exc)[:200]}")]) from None
    if not isinstance(data, dict):
        raise ApiError(400, [(MALFORMED, "The request body must be a JSON object.")])
    return data


def parse_uuid(name: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise ApiError(400, [(BAD_ID, f"{name}: “{value[:100]}” is not a UUID.")]) from None
