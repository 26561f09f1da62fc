"""Which changes between two exported contracts break a package released on the older one.

The api and the worker are released on their own, so each side must go on reading what the other writes,
and HTTP clients must go on being understood and reading the answers. A change breaks that when:

- a model, a field, a task, a queue or a progress state is removed or renamed;
- a type is narrowed: a value the old schema accepted is refused (a type or a `null` dropped from a
  union, an enum or literal value dropped, a bound, length, pattern or format tightened);
- a field becomes required, or a new field is required;
- a model that refused undeclared fields gains one: the api and the worker write every field they know
  (a task's arguments too), so a reader on the old contract would refuse what the new one writes;
- a model stops accepting undeclared fields.

Adding an optional field, a model, a task, a union member or an enum value, loosening a bound, and any
change of a title, description, example or default are not breaking.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
Contract = dict[str, dict[str, Schema]]

_LOWER_LIMITS = ("minLength", "minItems", "minProperties")
_UPPER_LIMITS = ("maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")
_BOUNDS = ((True, "minimum", "exclusiveMinimum"), (False, "maximum", "exclusiveMaximum"))


@dataclass(frozen=True)
class Break:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def breaking_changes(old: Contract, new: Contract) -> list[Break]:
    """Every change from `old` to `new` that breaks a package released on `old`."""
    breaks: list[Break] = []
    for group, models in old.items():
        current = new.get(group, {})
        if group == "tasks":
            breaks += _task_changes(models, current)
        else:
            breaks += _model_changes(group, models, current)
    return breaks


def _names(document: dict[str, Any]) -> str:
    return ", ".join(sorted(document)) or "none"


def _model_changes(group: str, old: dict[str, Schema], new: dict[str, Schema]) -> list[Break]:
    breaks = []
    for name, schema in old.items():
        where = f"{group}.json {name}"
        if name not in new:
            breaks.append(Break(where, f"model removed or renamed (models now: {_names(new)})"))
        else:
            comparison = _Comparison(schema, new[name])
            breaks += comparison.compare(schema, new[name], where)
    return breaks


def _task_changes(old: dict[str, Schema], new: dict[str, Schema]) -> list[Break]:
    breaks = []
    for name, task in old.items():
        where = f"tasks.json {name}"
        if name not in new:
            breaks.append(Break(where, f"task removed or renamed (tasks now: {_names(new)})"))
            continue
        current = new[name]
        if task["queue"] != current["queue"]:
            breaks.append(Break(where, f"queue renamed from {task['queue']!r} to {current['queue']!r}"))
        old_state, new_state = task["progress"]["state"], current["progress"]["state"]
        if old_state != new_state:
            breaks.append(Break(where, f"progress state renamed from {old_state!r} to {new_state!r}"))
        for part, old_schema, new_schema in (
            ("arguments", task["arguments"], current["arguments"]),
            ("result", task["result"], current["result"]),
            ("progress", task["progress"]["meta"], current["progress"]["meta"]),
        ):
            comparison = _Comparison(old_schema, new_schema)
            breaks += comparison.compare(old_schema, new_schema, f"{where} {part}")
    return breaks


def _key(value: Any) -> str:
    # JSON text tells 1 from True and 1.0, which Python's equality does not.
    return json.dumps(value, sort_keys=True)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(branch: Schema) -> list[Any] | None:
    """The finite set of values a `const` or `enum` branch accepts, or None for an open branch."""
    if "const" in branch:
        return [branch["const"]]
    if "enum" in branch:
        return list(branch["enum"])
    return None


def _type_covers(type_: str | None, value_type: str) -> bool:
    return type_ is None or type_ == value_type or (type_ == "number" and value_type == "integer")


def _accepts_value(branch: Schema, value: Any) -> bool:
    values = _values(branch)
    if values is not None:
        return _key(value) in {_key(option) for option in values}
    return _type_covers(branch.get("type"), _json_type(value))


def _describe(branches: list[Schema]) -> str:
    kinds = []
    for branch in branches:
        values = _values(branch)
        if values is not None:
            kinds.append(" or ".join(_key(value) for value in values))
        else:
            kinds.append(branch.get("type", "any value"))
    return " or ".join(dict.fromkeys(kinds))


def _bound(branch: Schema, inclusive: str, exclusive: str, lower: bool) -> tuple[float, bool] | None:
    """A numeric bound as (limit, exclusive): the tighter one when both keywords are there."""
    tightest = None
    for keyword in (inclusive, exclusive):
        if keyword in branch:
            bound = (branch[keyword], keyword == exclusive)
            if _tighter(tightest, bound, lower):
                tightest = bound
    return tightest


def _tighter(old: tuple[float, bool] | None, new: tuple[float, bool] | None, lower: bool) -> bool:
    """Whether bound `new` refuses a value that bound `old` accepts."""
    if new is None:
        return False
    if old is None:
        return True
    if new[0] != old[0]:
        return new[0] > old[0] if lower else new[0] < old[0]
    return new[1] and not old[1]


def _show_bound(bound: tuple[float, bool] | None, lower: bool) -> str:
    if bound is None:
        return "none"
    limit, exclusive = bound
    sign = (">" if lower else "<") + ("" if exclusive else "=")
    return f"{sign} {limit:g}"


class _Comparison:
    """Compares an old schema with a new one, each resolving `$ref`s against its own root."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._roots = (old_root, new_root)
        # Pairs of definitions being compared, so a recursive model is compared once.
        self._open: set[tuple[str, str]] = set()

    def compare(self, old: Schema, new: Schema, where: str) -> list[Break]:
        pair = (old.get("$ref", ""), new.get("$ref", ""))
        if pair != ("", "") and pair in self._open:
            return []
        self._open.add(pair)
        try:
            return self._compare_branches(
                list(self._branches(old, self._roots[0])), list(self._branches(new, self._roots[1])), where
            )
        finally:
            self._open.discard(pair)

    def _resolve(self, node: Schema, root: Schema) -> Schema:
        while True:
            if "$ref" in node:
                target = root.get("$defs", {})[node["$ref"].rsplit("/", 1)[-1]]
                node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
            elif len(node.get("allOf", [])) == 1:
                node = {**node["allOf"][0], **{key: value for key, value in node.items() if key != "allOf"}}
            else:
                return node

    def _branches(self, node: Schema, root: Schema) -> Iterator[Schema]:
        node = self._resolve(node, root)
        for union in ("anyOf", "oneOf"):
            if union in node:
                for option in node[union]:
                    yield from self._branches(option, root)
                return
        if isinstance(node.get("type"), list):
            for type_ in node["type"]:
                yield {**node, "type": type_}
            return
        yield node

    def _compare_branches(self, old: list[Schema], new: list[Schema], where: str) -> list[Break]:
        breaks: list[Break] = []
        refused: list[str] = []
        for branch in old:
            values = _values(branch)
            if values is not None:
                refused += [
                    _key(value) for value in values if not any(_accepts_value(nb, value) for nb in new)
                ]
                continue
            candidates = [
                nb
                for nb in new
                if _values(nb) is None and _type_covers(nb.get("type"), branch.get("type", ""))
            ]
            if not candidates:
                refused.append(branch.get("type", "any value"))
                continue
            # The closest new branch decides: the one that breaks least.
            options: list[list[Break]] = [self._compare_branch(branch, nb, where) for nb in candidates]
            closest = min(options, key=len)
            breaks += closest
        if refused:
            breaks.append(
                Break(where, f"no longer accepts {' or '.join(refused)} (accepts {_describe(new)})")
            )
        return breaks

    def _compare_branch(self, old: Schema, new: Schema, where: str) -> list[Break]:
        if "type" not in new:
            return []
        type_ = old.get("type")
        if type_ == "object":
            return self._compare_objects(old, new, where)
        breaks = self._compare_limits(old, new, where)
        if type_ == "array" and "items" in new:
            if "items" in old:
                breaks += self.compare(old["items"], new["items"], f"{where}[]")
            else:
                breaks.append(Break(where, "items constrained where any item was accepted"))
        return breaks

    def _compare_limits(self, old: Schema, new: Schema, where: str) -> list[Break]:
        breaks = []
        for lower, inclusive, exclusive in _BOUNDS:
            before, after = _bound(old, inclusive, exclusive, lower), _bound(new, inclusive, exclusive, lower)
            if _tighter(before, after, lower):
                what = "lower" if lower else "upper"
                shown = f"{_show_bound(before, lower)} to {_show_bound(after, lower)}"
                breaks.append(Break(where, f"{what} bound narrowed from {shown}"))
        for keyword in _LOWER_LIMITS + _UPPER_LIMITS:
            before, after = old.get(keyword), new.get(keyword)
            lower = keyword in _LOWER_LIMITS
            if after is not None and (before is None or (after > before if lower else after < before)):
                breaks.append(Break(where, f"{keyword} narrowed from {before} to {after}"))
        for keyword in _EXACT:
            if new.get(keyword) is not None and old.get(keyword) != new.get(keyword):
                breaks.append(
                    Break(where, f"{keyword} changed from {old.get(keyword)!r} to {new[keyword]!r}")
                )
        return breaks

    def _compare_objects(self, old: Schema, new: Schema, where: str) -> list[Break]:
        breaks = self._compare_limits(old, new, where)
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        added = [name for name in new_fields if name not in old_fields]
        for name, schema in old_fields.items():
            if name in new_fields:
                breaks += self.compare(schema, new_fields[name], f"{where}.{name}")
            else:
                hint = f" (new fields here: {', '.join(added)})" if added else ""
                breaks.append(Break(f"{where}.{name}", f"field removed or renamed{hint}"))
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            what = "field became required" if name in old_fields else "new required field"
            breaks.append(Break(f"{where}.{name}", what))
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if old_extra is not False and new_extra is False:
            breaks.append(Break(where, "no longer accepts fields it does not declare"))
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            breaks += self.compare(old_extra, new_extra, f"{where}.*")
        if old_extra is False:
            breaks += [
                Break(
                    f"{where}.{name}",
                    "new field that readers on the old contract refuse (they forbid extras)",
                )
                for name in added
                if name not in new.get("required", [])
            ]
        return breaks
