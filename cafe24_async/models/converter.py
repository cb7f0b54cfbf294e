"""The library's one cattrs converter, and the `Record` base class of every typed record.

Responses are JSON; typed records are opt-in. This module is the single place where JSON
becomes records and records become JSON again, configured once, with one promise:
`unstructure(structure(x, Model)) == x` for anything the server sends.

How the promise is kept:

- keys a record class does not declare (the API adds fields over versions) go to
  `Record.extra`, and come back out on unstructure;
- a value that does not fit its field's type (an empty string where a date is documented,
  say) leaves the field None and is kept verbatim in `extra` under its own key;
- a datetime or Decimal whose canonical text differs from what the server sent (no offset,
  fractional seconds, "00.00", a JSON number) is a `SourceDateTime` / `SourceDecimal`,
  a subclass that remembers the original value;
- the keys a record was built from are remembered, so explicit nulls and key order return.

Speed: structuring must cost no more than the `json.loads` that produced the data
(benchmarks/bench_models.py). Each record class gets, through a hook factory of this
converter, a structure function compiled for it: one straight line per field, a hook call
only where the value converts, plain JSON types checked inline, amounts looked up in a
small cache. Only a record holding a misfit value takes the slower field-by-field path.
Unstructuring uses cattrs' generated function with a per-field hook.
"""

from __future__ import annotations

import linecache
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from cafe24_async.clock import KST as _KST

__all__ = [
    "KST",
    "TF",
    "Record",
    "SourceDateTime",
    "SourceDecimal",
    "converter",
    "structure",
    "structure_many",
    "unstructure",
]

T = TypeVar("T")

#: Korea Standard Time: the API's timezone, assumed for datetimes sent without an offset
#: (the rule of `cafe24_async.dates.in_korea`, inlined here on the structuring hot path).
KST = _KST

_fromisoformat = datetime.fromisoformat


class _FlagMarker:
    """Marks a bool field whose JSON form is the string "T" or "F"."""

    def __repr__(self) -> str:
        return "TF"


#: A documented "T"/"F" flag: True/False in Python, "T"/"F" in JSON.
TF = Annotated[bool | None, _FlagMarker()]


class _Misfit(TypeError):
    """A value that does not fit the type of the field it was sent for."""


class SourceDateTime(datetime):
    """A datetime that remembers the exact text it was read from.

    Used only when `isoformat()` would not give that text back (no offset, fractional
    seconds, a space instead of "T"...). Results of arithmetic or `replace()` do not carry
    the text, so they are written out with `isoformat()`.
    """

    __slots__ = ("source",)
    source: str

    @classmethod
    def from_text(cls, text: str) -> SourceDateTime:
        parsed = datetime.fromisoformat(text)
        value = cls(
            parsed.year,
            parsed.month,
            parsed.day,
            parsed.hour,
            parsed.minute,
            parsed.second,
            parsed.microsecond,
            parsed.tzinfo or KST,
            fold=parsed.fold,
        )
        value.source = text
        return value

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        text = getattr(self, "source", None)
        if text is None:
            return (datetime.fromisoformat, (self.isoformat(),))
        return (SourceDateTime.from_text, (text,))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__reduce_ex__(2)


class SourceDecimal(Decimal):
    """A Decimal that remembers the JSON value it was read from (a string or a number)."""

    __slots__ = ("source",)
    source: str | int | float

    @classmethod
    def from_json(cls, value: str | int | float) -> SourceDecimal:
        made = cls(repr(value) if isinstance(value, float) else value)
        made.source = value
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        source = getattr(self, "source", None)
        if source is None:
            return (Decimal, (str(self),))
        return (SourceDecimal.from_json, (source,))

    def __copy__(self) -> SourceDecimal:
        return self

    def __deepcopy__(self, memo: Any) -> SourceDecimal:
        return self


@attrs.define(kw_only=True)
class Record:
    """Base of every typed record: the declared fields plus everything else the server sent."""

    #: Keys the class does not declare, and values that did not fit their field, verbatim.
    extra: dict[str, Any] = attrs.field(factory=dict)
    #: The keys the record was built from, in order (None for records built in code).
    _keys: tuple[str, ...] | None = attrs.field(default=None, init=False, eq=False, repr=False)


converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
"""The converter: every typed record goes through it. Do not make another."""


# -- leaf values ---------------------------------------------------------------------------


def _structure_datetime(value: Any) -> datetime | None:
    if value.__class__ is str:
        if (
            len(value) == 25
            and value[19] == "+"
            and value[10] == "T"
            and value[7] == "-"
            and value[13] == ":"
            and value[16] == ":"
            and value[22] == ":"
        ):
            # "YYYY-MM-DDTHH:MM:SS+HH:MM": isoformat() writes exactly this text back.
            return _fromisoformat(value)
        return SourceDateTime.from_text(value)
    if value is None:
        return None
    raise _Misfit(value)


def _unstructure_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = getattr(value, "source", None)
    return text if text is not None else value.isoformat()


#: Amounts already read, by their JSON text or number ("0.00" is on most records). Decimals
#: are immutable, so one instance serves every record; the table stops growing when full.
_DECIMALS: dict[str, Decimal] = {}
_NUMBERS: dict[tuple[type, int | float], Decimal] = {}
_CACHE_SIZE = 4096


def _structure_decimal(value: Any) -> Decimal | None:
    kind = value.__class__
    if kind is str:
        number = _DECIMALS.get(value)
        if number is not None:
            return number
        number = Decimal(value)
        if not number.is_finite():
            raise _Misfit(value)
        if str(number) != value:
            number = SourceDecimal.from_json(value)
        if len(_DECIMALS) < _CACHE_SIZE:
            _DECIMALS[value] = number
        return number
    if kind is int or kind is float:
        key = (kind, value)
        number = _NUMBERS.get(key)
        if number is not None:
            return number
        number = SourceDecimal.from_json(value)
        if not number.is_finite():
            raise _Misfit(value)
        if len(_NUMBERS) < _CACHE_SIZE:
            _NUMBERS[key] = number
        return number
    if value is None:
        return None
    raise _Misfit(value)


def _unstructure_decimal(value: Decimal | None) -> str | int | float | None:
    if value is None:
        return None
    source = getattr(value, "source", None)
    return source if source is not None else str(value)


def _structure_flag(value: Any) -> bool | None:
    if value == "T":
        return True
    if value == "F":
        return False
    if value is None:
        return None
    raise _Misfit(value)


def _unstructure_flag(value: bool | None) -> str | None:
    if value is None:
        return None
    return "T" if value else "F"


def _identity(value: Any) -> Any:
    return value


converter.register_structure_hook(datetime, lambda value, _: _structure_datetime(value))
converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_structure_hook(Decimal, lambda value, _: _structure_decimal(value))
converter.register_unstructure_hook(Decimal, _unstructure_decimal)


# -- field hooks, chosen from each field's annotation ---------------------------------------

_JSON_CLASSES: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
    list: (list,),
    dict: (dict,),
}

StructureHook = Callable[[Any], Any]
UnstructureHook = Callable[[Any], Any]


@attrs.frozen
class FieldPlan:
    """How one record field is read and written.

    `classes` is set for plain JSON fields (the value is kept as is once its class is one
    of them), `flag` for T/F flags; otherwise `structure` converts the JSON value.
    """

    structure: StructureHook | None
    unstructure: UnstructureHook
    classes: frozenset[type] | None = None
    flag: bool = False


def _record_plan(model: type[Record]) -> FieldPlan:
    hooks: list[Callable[[Any, Any], Any]] = []  # resolved on first use, then kept

    def structure_one(value: Any) -> Any:
        if value is None:
            return None
        if not hooks:
            hooks.append(converter.get_structure_hook(model))
        return hooks[0](value, model)

    def unstructure_one(value: Any) -> Any:
        return None if value is None else unstructure(value)

    return FieldPlan(structure_one, unstructure_one)


def _records_plan(model: type[Record]) -> FieldPlan:
    hooks: list[Callable[[Any, Any], Any]] = []  # resolved on first use, then kept

    def structure_list(value: Any) -> Any:
        if value is None:
            return None
        if value.__class__ is not list:
            raise _Misfit(value)
        if not hooks:
            hooks.append(converter.get_structure_hook(model))
        hook = hooks[0]
        return [hook(item, model) for item in value]

    def unstructure_list(value: Any) -> Any:
        return None if value is None else [unstructure(item) for item in value]

    return FieldPlan(structure_list, unstructure_list)


def field_plan(annotation: Any) -> FieldPlan:
    """The plan of a record field, from its annotation."""
    if typing.get_origin(annotation) is Annotated:
        base, *marks = typing.get_args(annotation)
        if any(isinstance(m, _FlagMarker) for m in marks):
            return FieldPlan(_structure_flag, _unstructure_flag, flag=True)
        annotation = base
    if annotation is Any:
        return FieldPlan(None, _identity)
    members = (
        typing.get_args(annotation)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
        else (annotation,)
    )
    members = tuple(m for m in members if m is not type(None))
    if len(members) == 1:
        (only,) = members
        if only is datetime:
            return FieldPlan(_structure_datetime, _unstructure_datetime)
        if only is Decimal:
            return FieldPlan(_structure_decimal, _unstructure_decimal)
        if isinstance(only, type) and issubclass(only, Record):
            return _record_plan(only)
        if typing.get_origin(only) is list:
            (item,) = typing.get_args(only) or (Any,)
            if isinstance(item, type) and issubclass(item, Record):
                return _records_plan(item)
    classes: set[type] = set()
    for member in members:
        found = _JSON_CLASSES.get(typing.get_origin(member) or member)
        if found is None:
            raise TypeError(f"no JSON hook for field type {annotation!r}")
        classes.update(found)
    return FieldPlan(None, _identity, classes=frozenset(classes))


def _fits(plan: FieldPlan, value: Any) -> Any:
    """`value` read by `plan`; raises when it does not fit."""
    if plan.flag:
        return _structure_flag(value)
    if plan.structure is not None:
        return plan.structure(value)
    if plan.classes is not None and value is not None and value.__class__ not in plan.classes:
        raise _Misfit(value)
    return value


# -- records ------------------------------------------------------------------------------

_MISFITS = (ValueError, TypeError, ArithmeticError)
_SHAPES_PER_CLASS = 256


def _is_record(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Record)


def _record_fields(model: type[Record]) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(model) if f.init and f.name != "extra"]


def _make_structure(model: type[Record]) -> Callable[[Any, Any], Record]:
    """A structure function written for `model`, one straight line per field.

    cattrs' own generated function tests every declared key and passes the values to the
    class as keyword arguments; on a product (96 fields) that costs about 1.7 times the
    `json.loads` of the record. This one reads each field with `dict.get` into the slots
    of a blank instance, calls a hook only for fields that convert (dates, amounts, nested
    records) and checks plain JSON fields inline, which brings the cost under the decoding.
    """
    plans = {f.name: field_plan(f.type) for f in _record_fields(model)}
    known = frozenset(plans)
    scope: dict[str, Any] = {
        "_cls": model,
        "_new": object.__new__,
        "_known": known,
        "_Misfit": _Misfit,
        "_MISFITS": _MISFITS,
        "_as_dict": _as_dict,
    }
    body: list[str] = []
    for index, (name, plan) in enumerate(plans.items()):
        if plan.flag:
            body += [
                f"v = g({name!r})",
                "if v == 'T': v = True",
                "elif v == 'F': v = False",
                "elif v is not None: raise _Misfit(v)",
                f"self.{name} = v",
            ]
        elif plan.structure is not None:
            scope[f"_h{index}"] = plan.structure
            body.append(f"self.{name} = _h{index}(g({name!r}))")
        elif plan.classes is not None:
            if len(plan.classes) == 1:
                (only,) = plan.classes
                scope[f"_c{index}"] = only
                test = f"v.__class__ is not _c{index}"
            else:
                scope[f"_c{index}"] = plan.classes
                test = f"v.__class__ not in _c{index}"
            body += [
                f"v = g({name!r})",
                f"if v is not None and {test}: raise _Misfit(v)",
                f"self.{name} = v",
            ]
        else:
            body.append(f"self.{name} = g({name!r})")
    source = "\n".join(
        [
            "def structure(o, _=None):",
            "    if o.__class__ is not dict:",
            "        o = _as_dict(o, _cls)",
            "    g = o.get",
            "    self = _new(_cls)",
            "    try:",
            *[f"        {line}" for line in body],
            "    except _MISFITS:",
            "        return _slow(o)",
            "    keys = tuple(o)",
            "    shape = _shapes.get(keys)",
            "    if shape is None:",
            "        shape = _new_shape(keys)",
            "    self._keys = shape[0]",
            "    self.extra = {} if shape[1] else {k: v for k, v in o.items() if k not in _known}",
            "    return self",
        ]
    )

    # Records of one route mostly share one key sequence: keep one tuple per sequence
    # (with whether every key is declared) instead of one per record.
    shapes: dict[tuple[str, ...], tuple[tuple[str, ...], bool]] = {}

    def new_shape(keys: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
        shape = (keys, known.issuperset(keys))
        if len(shapes) < _SHAPES_PER_CLASS:
            shapes[keys] = shape
        return shape

    scope["_shapes"] = shapes
    scope["_new_shape"] = new_shape

    def slow(data: dict[str, Any]) -> Record:
        made = model()
        extra: dict[str, Any] = {}
        for key, value in data.items():
            plan = plans.get(key)
            if plan is None:
                extra[key] = value
                continue
            try:
                setattr(made, key, _fits(plan, value))
            except _MISFITS:
                extra[key] = value
        made.extra = extra
        made._keys = tuple(data)
        return made

    scope["_slow"] = slow
    filename = f"<cafe24_async structure {model.__module__}.{model.__qualname__}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, scope)
    made: Callable[[Any, Any], Record] = scope["structure"]
    return made


def _as_dict(data: Any, model: type[Record]) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    raise _Misfit(f"{model.__name__} needs a JSON object, got {type(data).__name__}")


def _make_unstructure(model: type[Record]) -> Callable[[Record], dict[str, Any]]:
    overrides: dict[str, Any] = {
        f.name: override(unstruct_hook=field_plan(f.type).unstructure) for f in _record_fields(model)
    }
    base = make_dict_unstructure_fn(model, converter, extra=override(omit=True), **overrides)

    def unstructure_record(record: Record) -> dict[str, Any]:
        values = base(record)
        extra = record.extra
        keys = record._keys
        out: dict[str, Any] = {}
        if keys is not None:
            for key in keys:
                value = values.get(key)
                if value is not None:
                    out[key] = value
                elif key in extra:
                    out[key] = extra[key]
                elif key in values:
                    out[key] = None
        for key, value in values.items():
            if value is not None and key not in out:
                out[key] = value
        for key, value in extra.items():
            if key not in out:
                out[key] = value
        return out

    return unstructure_record


converter.register_structure_hook_factory(_is_record, _make_structure)
converter.register_unstructure_hook_factory(_is_record, _make_unstructure)


# -- the functions the client calls --------------------------------------------------------


def structure(data: Any, model: type[T]) -> T:
    """`data` (decoded JSON) as an instance of `model` (see `structure_many` for arrays)."""
    try:
        return converter.structure(data, model)
    except _Misfit as exc:
        raise TypeError(str(exc)) from None


def structure_many(items: Iterable[Any], model: type[T]) -> list[T]:
    """Every item of a JSON array as an instance of `model`."""
    hook = converter.get_structure_hook(model)
    try:
        return [hook(item, model) for item in items]
    except _Misfit as exc:
        raise TypeError(str(exc)) from None


def unstructure(obj: Any) -> Any:
    """Plain JSON-ready data: records become dicts; dicts and lists are walked for records."""
    if isinstance(obj, Record):
        return converter.unstructure(obj)
    if isinstance(obj, dict):
        return {key: unstructure(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [unstructure(item) for item in obj]
    if isinstance(obj, datetime):
        return _unstructure_datetime(obj)
    if isinstance(obj, Decimal):
        return _unstructure_decimal(obj)
    return obj
