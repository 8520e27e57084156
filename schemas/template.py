"""Load CloudFormation / SAM templates (YAML with short-form tags, or JSON), keeping positions.

``load_template(path)`` returns a :class:`Template`: the document as plain
``dict``/``list``/scalars (mappings are :class:`LocDict`, sequences
:class:`LocList`, both plain containers for every other purpose) and
``template.where(path)`` answers ``file:line:col`` for any key path, so an
error about ``Resources.Fn.Properties.MemorySize`` can point at its line.

Refused quickly, never expanded: YAML alias bombs (a document that would grow
past :data:`MAX_NODES` nodes through aliases), nesting deeper than
:data:`MAX_DEPTH`, duplicate keys. Dates stay strings, as CloudFormation reads
them (``AWSTemplateFormatVersion: 2010-09-09``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from .errors import TemplateError, location

try:  # the C parser is ~10x faster; marks (line/col) are kept either way
    _BaseLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_DEPTH = 64
MAX_NODES = 500_000
MAX_BYTES = 16 * 1024 * 1024

DEFAULT_NAMES = ("template.yaml", "template.yml", "template.json")


class LocDict(dict):
    """A dict that remembers where it and each of its keys and values stand (0-based line, col)."""

    __slots__ = ("loc", "key_locs", "value_locs")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loc: tuple[int, int] | None = None
        self.key_locs: dict[Any, tuple[int, int]] = {}
        self.value_locs: dict[Any, tuple[int, int]] = {}


class LocList(list):
    __slots__ = ("loc", "item_locs")

    def __init__(self, *args):
        super().__init__(*args)
        self.loc: tuple[int, int] | None = None
        self.item_locs: list[tuple[int, int]] = []


# Every short form CloudFormation accepts; the value is the long name.
SHORT_FORMS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "FindInMap": "Fn::FindInMap",
    "GetAtt": "Fn::GetAtt",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "Sub": "Fn::Sub",
    "Transform": "Fn::Transform",
    "And": "Fn::And",
    "Equals": "Fn::Equals",
    "If": "Fn::If",
    "Not": "Fn::Not",
    "Or": "Fn::Or",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
    "ForEach": "Fn::ForEach",
}


class _Loader(_BaseLoader):
    """Safe loader plus CloudFormation tags, positions, and limits."""

    def __init__(self, stream):
        super().__init__(stream)
        self._nodes_seen = 0


# Dates and times stay strings: CloudFormation does not know YAML timestamps.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _Loader.yaml_implicit_resolvers.copy().items()
}


def _mark(node) -> tuple[int, int]:
    return (node.start_mark.line, node.start_mark.column)


def _check_budget(loader: _Loader, node) -> None:
    loader._nodes_seen += 1
    if loader._nodes_seen > MAX_NODES:
        raise _Refused(node, f"the document expands to more than {MAX_NODES:,} nodes (a YAML alias bomb?)")


class _Refused(Exception):
    def __init__(self, node, message):
        super().__init__(message)
        self.node = node
        self.message = message


def _construct(loader: _Loader, node, depth: int = 0):
    """Build the Python value of ``node`` ourselves: positions on every container, limits enforced."""
    if depth > MAX_DEPTH:
        raise _Refused(node, f"nesting deeper than {MAX_DEPTH} levels")
    _check_budget(loader, node)
    tag = node.tag
    if isinstance(node, yaml.MappingNode):
        if tag.startswith("!"):
            return _intrinsic(loader, node, depth)
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)
        out = LocDict()
        out.loc = _mark(node)
        written_here: set = set()  # keys written in this mapping itself (not brought in by a `<<` merge)
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, depth + 1)
            if isinstance(key, (dict, list, set)):
                raise _Refused(key_node, "a mapping key must be a plain value")
            if key in out and id(key_node) in own and key in written_here:
                raise _Refused(key_node, f"duplicate key {key!r}")
            if id(key_node) in own:
                written_here.add(key)
            out.pop(key, None)  # a key of the mapping overrides a merged one (YAML merge keys)
            out[key] = _construct(loader, value_node, depth + 1)
            out.key_locs[key] = _mark(key_node)
            out.value_locs[key] = _mark(value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        if tag.startswith("!"):
            return _intrinsic(loader, node, depth)
        out = LocList()
        out.loc = _mark(node)
        for item in node.value:
            out.append(_construct(loader, item, depth + 1))
            out.item_locs.append(_mark(item))
        return out
    if tag.startswith("!"):
        return _intrinsic(loader, node, depth)
    try:
        return loader.construct_object(node, deep=False)
    except (ValueError, IndexError, KeyError, AttributeError, TypeError, OverflowError):
        # PyYAML's constructors fail with plain exceptions on e.g. `!!int x`, `!!bool ""`, 5,000-digit integers
        kind = tag.rsplit(":", 1)[-1]
        raise _Refused(node, f"{str(node.value)[:40]!r} is not a valid {kind}") from None


def _refuse_bombs(root) -> None:
    """Count the nodes the document expands to, each shared (aliased) node once per use,
    in time proportional to the distinct nodes, so a billion-laughs document is refused at once."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_:
            raise _Refused(node, "a YAML alias refers to itself (recursive anchor)")
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            open_.discard(id(node))
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[id(node)] = total
            if total > MAX_NODES:
                raise _Refused(node, f"the document expands to more than {MAX_NODES:,} nodes (a YAML alias bomb?)")
            continue
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _refuse_deep(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the event stream, before anything is composed.

    libyaml produces events iteratively, but its composer recurses once per level in C:
    about 100,000 nested ``[`` overflow the C stack (a crash, not an exception)."""
    scanner = _BaseLoader(text)
    depth = 0
    try:
        while scanner.check_event():
            event = scanner.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(event, f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        scanner.dispose()


def _intrinsic(loader: _Loader, node, depth: int):
    name = node.tag[1:]
    long_name = SHORT_FORMS.get(name)
    if long_name is None:
        raise _Refused(node, f"unknown tag !{name}; CloudFormation knows " + ", ".join("!" + k for k in SHORT_FORMS))
    if isinstance(node, yaml.ScalarNode):
        value = node.value
        if name == "GetAtt":
            if "." not in value:
                raise _Refused(node, f"!GetAtt {value!r} needs the form Resource.Attribute")
            value = LocList(value.split(".", 1))
            value.loc = _mark(node)
            value.item_locs = [_mark(node), _mark(node)]
        elif name == "GetAZs" and value == "":
            value = ""
    else:
        plain = node.__class__(
            tag="tag:yaml.org,2002:map" if isinstance(node, yaml.MappingNode) else "tag:yaml.org,2002:seq",
            value=node.value,
            start_mark=node.start_mark,
            end_mark=node.end_mark,
            flow_style=node.flow_style,
        )
        value = _construct(loader, plain, depth + 1)
    out = LocDict({long_name: value})
    out.loc = _mark(node)
    out.key_locs[long_name] = _mark(node)
    out.value_locs[long_name] = _mark(node)
    return out


@dataclass
class Template:
    """A loaded template: its data and where each part came from."""

    path: str
    data: dict
    text: str = field(repr=False, default="")

    @property
    def folder(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def where(self, keys: Iterable[Any] = (), *, key: bool = False) -> str:
        """``file:line:col`` of the value at ``keys`` (or of its key with ``key=True``).

        Falls back to the deepest ancestor that has a position."""
        return location(self.path, *self.position(keys, key=key))

    def position(self, keys: Iterable[Any] = (), *, key: bool = False) -> tuple[int | None, int | None]:
        node: Any = self.data
        best = getattr(node, "loc", None)
        keys = list(keys)
        for i, k in enumerate(keys):
            last = i == len(keys) - 1
            if isinstance(node, LocDict) and k in node:
                locs = node.key_locs if (key and last) else node.value_locs
                best = locs.get(k, best)
                node = node[k]
            elif isinstance(node, LocList) and isinstance(k, int) and 0 <= k < len(node):
                if k < len(node.item_locs):
                    best = node.item_locs[k]
                node = node[k]
            else:
                break
        if best is None:
            return (None, None)
        return (best[0] + 1, best[1] + 1)


def find_template(explicit: str | None, folder: str = ".") -> str:
    """The template to read: the one given, else template.yaml / .yml / .json in ``folder``."""
    if explicit:
        if not os.path.exists(explicit):
            raise TemplateError(f"template {explicit} does not exist", hint="check the path given to -t/--template")
        if os.path.isdir(explicit):
            for name in DEFAULT_NAMES:
                candidate = os.path.join(explicit, name)
                if os.path.isfile(candidate):
                    return candidate
            raise TemplateError(f"{explicit} is a folder with no {', '.join(DEFAULT_NAMES)} in it")
        return explicit
    for name in DEFAULT_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    raise TemplateError(
        f"no template found in {os.path.abspath(folder)}",
        hint=f"create {DEFAULT_NAMES[0]} or name one with -t/--template",
    )


def parse_text(text: str, path: str = "<template>") -> dict:
    """Parse template text (YAML or JSON) into LocDicts; raise TemplateError with file:line:col."""
    if len(text) > MAX_BYTES:
        raise TemplateError(f"the template is {len(text):,} bytes; lamctl reads at most {MAX_BYTES:,}", where=path)
    loader = _Loader(text)
    try:
        _refuse_deep(text)
        node = loader.get_single_node()
        if node is None:
            raise TemplateError("the template is empty", where=location(path, 1, 1),
                                hint="a template needs at least a Resources section")
        _refuse_bombs(node)
        data = _construct(loader, node)
    except _Refused as exc:
        line, col = _mark(exc.node)
        raise TemplateError(exc.message, where=location(path, line + 1, col + 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = location(path, mark.line + 1, mark.column + 1) if mark else path
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise TemplateError(f"invalid YAML: {problem}", where=where) from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"invalid YAML: {exc}", where=path) from None
    except RecursionError:
        raise TemplateError(f"nesting deeper than {MAX_DEPTH} levels", where=path) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise TemplateError("a template must be a mapping at the top (Resources:, Parameters:, ...)",
                            where=location(path, 1, 1))
    return data


def load_template(path: str) -> Template:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TemplateError(f"cannot read the template: {exc.strerror}", where=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"the template is not UTF-8 (byte {exc.start})", where=path) from None
    return Template(path=path, data=parse_text(text, path), text=text)


def plain(value: Any) -> Any:
    """A deep copy with only built-in dict/list (for json.dumps-heavy code paths and comparisons)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
