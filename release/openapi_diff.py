"""Which changes between two OpenAPI documents of the api break a client generated from the older one.

A client is generated from a released document (openapi-typescript, openapi-generator…) and goes on
running against every later api of the same major version, so the later document must keep:

- every operation, under its path, method and operationId (generated clients name their functions by
  it);
- every parameter it declared, neither becoming required nor narrowed, and no new required one;
- its request body's schema, never narrowed (`release.schema_diff`'s rules for what services read:
  a type, enum value or `null` dropped, a bound tightened, a field removed or made required…);
- every status code and content type of its answers, their schemas never widened (the rules for what
  clients read: a type, enum value or `null` added, a bound loosened, a field removed or left out);
- every header an answer declared, still required if it was, its schema never widened.

Additions a client can ignore — an operation, an optional parameter or field, a status code — never
break. Descriptions, summaries, examples and tags never break. Schemas are compared through the
document's `components`, whose models are resolved wherever an operation refers to them.
"""

from typing import Any

from release.schema_diff import Break, Readers, schema_changes

Document = dict[str, Any]
Schema = dict[str, Any]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def breaking_changes(old: Document, new: Document) -> list[Break]:
    """Every change from `old` to `new` that breaks a client generated from `old`."""
    comparison = _Documents(old, new)
    breaks: list[Break] = []
    new_paths = new.get("paths", {})
    for path, old_item in old.get("paths", {}).items():
        if path not in new_paths:
            breaks.append(Break(path, "path removed or renamed"))
            continue
        for method in _METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_paths[path]:
                breaks.append(Break(where, "operation removed"))
            else:
                breaks += comparison.operation(old_item[method], new_paths[path][method], where)
    return breaks


class _Documents:
    """Two documents, each schema of one compared with its counterpart in the other through their own
    components."""

    def __init__(self, old: Document, new: Document) -> None:
        self._definitions = (_components(old), _components(new))

    def operation(self, old: Document, new: Document, where: str) -> list[Break]:
        breaks = []
        old_id, new_id = old.get("operationId"), new.get("operationId")
        if old_id != new_id:
            breaks.append(Break(where, f"operationId renamed from {old_id!r} to {new_id!r}"))
        breaks += self._parameters(old.get("parameters", []), new.get("parameters", []), where)
        breaks += self._request_body(old.get("requestBody"), new.get("requestBody"), where)
        new_answers = new.get("responses", {})
        for status, answer in old.get("responses", {}).items():
            if status not in new_answers:
                breaks.append(Break(f"{where} {status}", "status code removed"))
            else:
                breaks += self._answer(answer, new_answers[status], f"{where} {status}")
        return breaks

    def _schemas(self, old: Schema, new: Schema, where: str, readers: Readers) -> list[Break]:
        old_root = {**old, "$defs": self._definitions[0]}
        new_root = {**new, "$defs": self._definitions[1]}
        return schema_changes(old_root, new_root, where, readers)

    def _parameters(self, old: list[Schema], new: list[Schema], where: str) -> list[Break]:
        breaks = []
        new_by_key = {(parameter["in"], parameter["name"]): parameter for parameter in new}
        old_keys = set()
        for parameter in old:
            key = (parameter["in"], parameter["name"])
            old_keys.add(key)
            named = f"{where} {parameter['in']} parameter {parameter['name']}"
            if key not in new_by_key:
                breaks.append(Break(named, "parameter removed or renamed"))
                continue
            current = new_by_key[key]
            if current.get("required", False) and not parameter.get("required", False):
                breaks.append(Break(named, "parameter became required"))
            old_schema, new_schema = parameter.get("schema", {}), current.get("schema", {})
            breaks += self._schemas(old_schema, new_schema, named, Readers.SERVICES)
        breaks += [
            Break(f"{where} {key[0]} parameter {key[1]}", "new required parameter")
            for key, parameter in new_by_key.items()
            if key not in old_keys and parameter.get("required", False)
        ]
        return breaks

    def _request_body(self, old: Schema | None, new: Schema | None, where: str) -> list[Break]:
        if old is None:
            if new is not None and new.get("required", False):
                return [Break(where, "new required request body")]
            return []
        named = f"{where} request body"
        if new is None:
            return [Break(named, "request body removed")]
        breaks = self._contents(old, new, named, Readers.SERVICES)
        if new.get("required", False) and not old.get("required", False):
            breaks.append(Break(named, "request body became required"))
        return breaks

    def _contents(self, old: Schema, new: Schema, where: str, readers: Readers) -> list[Break]:
        """Each content type of a body or an answer: kept, and its schema compared for `readers`."""
        breaks = []
        new_content = new.get("content", {})
        for media, body in old.get("content", {}).items():
            if media not in new_content:
                breaks.append(Break(where, f"content type {media} removed"))
                continue
            old_schema, new_schema = body.get("schema", {}), new_content[media].get("schema", {})
            breaks += self._schemas(old_schema, new_schema, f"{where} {media}", readers)
        return breaks

    def _answer(self, old: Schema, new: Schema, where: str) -> list[Break]:
        breaks = self._contents(old, new, where, Readers.CLIENTS)
        new_headers = {name.lower(): header for name, header in new.get("headers", {}).items()}
        for name, header in old.get("headers", {}).items():
            named = f"{where} header {name}"
            current = new_headers.get(name.lower())
            if current is None:
                breaks.append(Break(named, "header removed"))
                continue
            if header.get("required", False) and not current.get("required", False):
                breaks.append(Break(named, "may now be left out, which clients on the old document require"))
            old_schema, new_schema = header.get("schema", {}), current.get("schema", {})
            breaks += self._schemas(old_schema, new_schema, named, Readers.CLIENTS)
        return breaks


def _components(document: Document) -> dict[str, Schema]:
    schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})
    return schemas
