"""Which changes between two exported contracts break a package released on the older one.

The api and the worker are released on their own, so each side must go on reading what the other writes,
and HTTP clients must go on being understood and reading the answers. Whether a change breaks depends on
who reads the model, since the writer is then on the other contract:

- a model services read (a task's arguments, a request body: written by clients, read by the api and
  the worker) breaks when it is *narrowed*: the new reader refuses a value an old writer sends;
- a model clients read (every answer, event and task result) breaks when it is *widened*: the new
  writer sends a value an old reader refuses (`result: str` becoming `result: Any`);
- a model both read (a task's progress: the api reads what the worker reports, clients read it from
  the api) breaks either way.

Narrowing is: a type or a `null` dropped from a union, an enum or literal value dropped, a bound, length,
pattern or format tightened, a field becoming required or a new required field, a model that stops
accepting undeclared fields. Widening is the same read the other way round: a type, `null` or enum value
added, a bound loosened, a field that may now be left out. In every direction a model, field, task,
queue or progress state removed or renamed breaks, and so does a new field in a model that refuses
undeclared ones: the api and the worker write every field they know, so a reader on the old contract
would refuse what the new one writes. Titles, descriptions, examples and defaults never break.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Flag, auto
from typing import Any

Schema = dict[str, Any]
Contract = dict[str, dict[str, Schema]]

_LOWER_LIMITS = ("minLength", "minItems", "minProperties")
_UPPER_LIMITS = ("maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")
_BOUNDS = ((True, "minimum", "exclusiveMinimum"), (False, "maximum", "exclusiveMaximum"))


class Readers(Flag):
    """Who reads a model, and so which way a change of it breaks."""

    #: Services read it from clients (or the api from the worker): narrowing breaks.
    SERVICES = auto()
    #: Clients read it from the services: widening breaks.
    CLIENTS = auto()
    BOTH = SERVICES | CLIENTS


#: The readers of each group of models; a group not named here (a new one) is taken as read by both.
GROUP_READERS = {"requests": Readers.SERVICES, "responses": Readers.CLIENTS, "events": Readers.CLIENTS}
#: The readers of each part of a task: its arguments go from clients through the api to the worker, its
#: result from the worker through the api (unread) to clients, its progress through the api to clients.
TASK_READERS = {"arguments": Readers.SERVICES, "result": Readers.CLIENTS, "progress": Readers.BOTH}


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
            readers = GROUP_READERS.get(group, Readers.BOTH)
            breaks += _model_changes(group, models, current, readers)
    return breaks


def schema_changes(old: Schema, new: Schema, where: str, readers: Readers) -> list[Break]:
    """The breaking changes from one schema to the next, for a model `readers` read; each once."""
    breaks: list[Break] = []
    if Readers.SERVICES in readers:
        breaks += _Comparison(old, new, _NARROWING).compare(old, new, where)
    if Readers.CLIENTS in readers:
        breaks += _Comparison(new, old, _WIDENING).compare(new, old, where)
    return list(dict.fromkeys(breaks))


def _names(document: dict[str, Any]) -> str:
    return ", ".join(sorted(document)) or "none"


def _model_changes(
    group: str, old: dict[str, Schema], new: dict[str, Schema], readers: Readers
) -> list[Break]:
    breaks = []
    for name, schema in old.items():
        where = f"{group}.json {name}"
        if name not in new:
            breaks.append(Break(where, f"model removed or renamed (models now: {_names(new)})"))
        else:
            breaks += schema_changes(schema, new[name], where, readers)
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
            breaks += schema_changes(old_schema, new_schema, f"{where} {part}", TASK_READERS[part])
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


@dataclass(frozen=True)
class _Wording:
    """How a comparison names what it finds. A comparison checks that every value schema `a` accepts is
    accepted by schema `b`: `a` is the old schema when it looks for narrowing, the new one when it looks
    for widening (`swapped`), and each finding is then said from old to new."""

    swapped: bool

    def refused(self, values: str, accepted: str) -> str:
        if self.swapped:
            return f"may now be {values}, which readers on the old contract refuse (they accept {accepted})"
        return f"no longer accepts {values} (accepts {accepted})"

    def changed(self, what: str, a: str, b: str) -> str:
        """`what` narrowed (a, b: old, new) or widened (a, b: new, old), from old to new."""
        return f"{what} widened from {b} to {a}" if self.swapped else f"{what} narrowed from {a} to {b}"

    def exact(self, keyword: str, a: Any, b: Any) -> str:
        old, new = (b, a) if self.swapped else (a, b)
        return f"{keyword} changed from {old!r} to {new!r}"


_NARROWING = _Wording(swapped=False)
_WIDENING = _Wording(swapped=True)


class _Comparison:
    """Whether every value schema `a` accepts is accepted by schema `b`, each resolving `$ref`s against
    its own root (see `_Wording` for which is old and which is new)."""

    def __init__(self, a_root: Schema, b_root: Schema, wording: _Wording) -> None:
        self._roots = (a_root, b_root)
        self._wording = wording
        # Pairs of definitions being compared, so a recursive model is compared once.
        self._open: set[tuple[str, str]] = set()

    def compare(self, a: Schema, b: Schema, where: str) -> list[Break]:
        pair = (a.get("$ref", ""), b.get("$ref", ""))
        if pair != ("", "") and pair in self._open:
            return []
        self._open.add(pair)
        try:
            return self._compare_branches(
                list(self._branches(a, self._roots[0])), list(self._branches(b, self._roots[1])), where
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

    def _compare_branches(self, a: list[Schema], b: list[Schema], where: str) -> list[Break]:
        breaks: list[Break] = []
        refused: list[str] = []
        for branch in a:
            values = _values(branch)
            if values is not None:
                refused += [_key(value) for value in values if not any(_accepts_value(nb, value) for nb in b)]
                continue
            candidates = [
                nb for nb in b if _values(nb) is None and _type_covers(nb.get("type"), branch.get("type", ""))
            ]
            if not candidates:
                refused.append(branch.get("type", "any value"))
                continue
            # The closest branch of `b` decides: the one that breaks least.
            options: list[list[Break]] = [self._compare_branch(branch, nb, where) for nb in candidates]
            closest = min(options, key=len)
            breaks += closest
        if refused:
            breaks.append(Break(where, self._wording.refused(" or ".join(refused), _describe(b))))
        return breaks

    def _compare_branch(self, a: Schema, b: Schema, where: str) -> list[Break]:
        if "type" not in b:
            return []
        type_ = a.get("type")
        if type_ == "object":
            return self._compare_objects(a, b, where)
        breaks = self._compare_limits(a, b, where)
        if type_ == "array" and "items" in b:
            if "items" in a:
                breaks += self.compare(a["items"], b["items"], f"{where}[]")
            elif self._wording.swapped:
                breaks.append(Break(where, "items unconstrained, which readers on the old contract check"))
            else:
                breaks.append(Break(where, "items constrained where any item was accepted"))
        return breaks

    def _compare_limits(self, a: Schema, b: Schema, where: str) -> list[Break]:
        breaks = []
        for lower, inclusive, exclusive in _BOUNDS:
            before, after = _bound(a, inclusive, exclusive, lower), _bound(b, inclusive, exclusive, lower)
            if _tighter(before, after, lower):
                what = "lower bound" if lower else "upper bound"
                shown = (_show_bound(before, lower), _show_bound(after, lower))
                breaks.append(Break(where, self._wording.changed(what, *shown)))
        for keyword in _LOWER_LIMITS + _UPPER_LIMITS:
            before, after = a.get(keyword), b.get(keyword)
            lower = keyword in _LOWER_LIMITS
            if after is not None and (before is None or (after > before if lower else after < before)):
                breaks.append(Break(where, self._wording.changed(keyword, str(before), str(after))))
        for keyword in _EXACT:
            if b.get(keyword) is not None and a.get(keyword) != b.get(keyword):
                breaks.append(Break(where, self._wording.exact(keyword, a.get(keyword), b[keyword])))
        return breaks

    def _compare_objects(self, a: Schema, b: Schema, where: str) -> list[Break]:
        breaks = self._compare_limits(a, b, where)
        swapped = self._wording.swapped
        a_fields, b_fields = a.get("properties", {}), b.get("properties", {})
        old_fields, new_fields = (b_fields, a_fields) if swapped else (a_fields, b_fields)
        added = [name for name in new_fields if name not in old_fields]
        for name, schema in a_fields.items():
            if name in b_fields:
                breaks += self.compare(schema, b_fields[name], f"{where}.{name}")
        for name in old_fields:
            if name not in new_fields:
                hint = f" (new fields here: {', '.join(added)})" if added else ""
                breaks.append(Break(f"{where}.{name}", f"field removed or renamed{hint}"))
        for name in sorted(set(b.get("required", [])) - set(a.get("required", []))):
            if not swapped:
                what = "field became required" if name in old_fields else "new required field"
                breaks.append(Break(f"{where}.{name}", what))
            elif name in new_fields:
                breaks.append(
                    Break(f"{where}.{name}", "may now be left out, which readers on the old contract require")
                )
        a_extra, b_extra = a.get("additionalProperties", True), b.get("additionalProperties", True)
        if a_extra is not False and b_extra is False:
            what = "may now hold fields it does not declare, which readers on the old contract refuse"
            breaks.append(Break(where, what if swapped else "no longer accepts fields it does not declare"))
        elif isinstance(a_extra, dict) and isinstance(b_extra, dict):
            breaks += self.compare(a_extra, b_extra, f"{where}.*")
        old_extra = b_extra if swapped else a_extra
        new_required = (a if swapped else b).get("required", [])
        if old_extra is False:
            breaks += [
                Break(
                    f"{where}.{name}",
                    "new field that readers on the old contract refuse (they forbid extras)",
                )
                for name in added
                if name not in new_required
            ]
        return breaks
