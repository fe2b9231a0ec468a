"""The OpenAPI 3.1 document, assembled from the operations each API blueprint declares.

A view declares itself with ``@spec.operation(...)`` next to its route, so the document
cannot drift from the code: a test walks the URL map and fails on an /api/ route the
document does not describe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from simpul import __version__

F = TypeVar("F", bound=Callable[..., Any])

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
ERROR_STATUSES = {"400": "Invalid input", "401": "Not signed in", "403": "Not allowed",
                  "404": "Not found", "409": "Conflict with existing data"}


def paginated(item_ref: str) -> dict[str, Any]:
    """Schema of a NetBox-style page: count, next, previous, results."""
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": ["string", "null"]},
            "previous": {"type": ["string", "null"]},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_ref}"}},
        },
    }


PAGE_PARAMETERS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                 "maximum": 1000, "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                  "default": 0}},
]


@dataclass
class OpenAPISpec:
    """Operations and component schemas collected at import time of the API modules."""

    paths: dict[str, dict[str, Any]] = field(default_factory=dict)
    schemas: dict[str, Any] = field(default_factory=lambda: {"Error": ERROR_SCHEMA})

    def schema(self, name: str, body: dict[str, Any]) -> str:
        """Register a component schema and return its name for ``$ref``s."""
        self.schemas[name] = body
        return name

    def operation(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        tag: str,
        response: dict[str, Any] | None = None,
        status: int = 200,
        request: dict[str, Any] | None = None,
        parameters: list[dict[str, Any]] | None = None,
        public: bool = False,
    ) -> Callable[[F], F]:
        """Describe the decorated view as *method* on *path* (OpenAPI path syntax)."""

        def decorator(view: F) -> F:
            responses: dict[str, Any] = {
                str(status): {"description": "OK" if status < 300 else "Done"}
            }
            if response is not None:
                responses[str(status)]["content"] = {"application/json": {"schema": response}}
            for code, text in ERROR_STATUSES.items():
                if public and code in ("401", "403"):
                    continue
                responses[code] = {"description": text, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}}
            op: dict[str, Any] = {"summary": summary, "tags": [tag],
                                  "operationId": f"{method.lower()}_{view.__name__}",
                                  "responses": responses}
            if parameters:
                op["parameters"] = parameters
            if request is not None:
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": request}}}
            if public:
                op["security"] = []
            self.paths.setdefault(path, {})[method.lower()] = op
            return view

        return decorator

    def document(self) -> dict[str, Any]:
        """Return the whole OpenAPI 3.1 document."""
        return {
            "openapi": "3.1.0",
            "info": {"title": "simpul API", "version": __version__,
                     "description": "Network and data-center management for a Diskominfo. "
                                    "Authenticate with `Authorization: Token <key>`."},
            "servers": [{"url": "/"}],
            "security": [{"tokenAuth": []}, {"cookieAuth": []}],
            "paths": dict(sorted(self.paths.items())),
            "components": {
                "schemas": dict(sorted(self.schemas.items())),
                "securitySchemes": {
                    "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization",
                                  "description": "`Token <40 hex characters>`"},
                    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "simpul_session",
                                   "description": "Browser session; writes also need the "
                                                  "X-CSRFToken header"},
                },
            },
        }


spec = OpenAPISpec()
