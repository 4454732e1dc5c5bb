"""Parse ROS 2 XML launch files into a plain launch description; nothing is started here.

The ROS 2 ``launch`` package is not installable from PyPI, so the project runs its launch files with
its own runner. This module is the pure half: it reads the XML, evaluates arguments, substitutions and
conditions in document order (as the ROS 2 launch service visits actions) and produces a
:class:`LaunchDescription` whose :class:`ProcessSpec` entries hold final command lines. The other half,
:mod:`reflexarc.launch_runner`, starts and supervises them.

The accepted subset follows the ros2/launch XML frontend (``launch_xml``) and ``launch_ros`` ``Node``
parsing, so the same files run under ``ros2 launch`` on a full ROS 2 install. ``docs/launch.md`` lists
what is supported and where this runner deliberately differs.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import os
import re
import shlex
import sys
import xml.parsers.expat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

__all__ = [
    "NODE_MODULES",
    "OUTPUT_MODES",
    "LaunchArgument",
    "LaunchDescription",
    "LaunchError",
    "NodeDetails",
    "ProcessSpec",
    "declared_arguments",
    "evaluate_condition",
    "find_package_share",
    "format_parameter_value",
    "parse_launch_arguments",
    "parse_launch_file",
    "resolve_node_command",
    "typed_parameter_value",
]

_LOG = logging.getLogger(__name__)

PACKAGE_NAME = "reflexarc"

# Fallback when a node's console script is not installed: ``python -m MODULE`` from this environment.
# The console scripts (preferred) are registered in pyproject.toml under the same names.
NODE_MODULES: Mapping[str, str] = MappingProxyType({
    "sim_node": "sim.sim_node",
    "reflex_node": "edge_agent.reflex_node",
    "executive_node": "edge_agent.executive_node",
    "voice_node": "edge_agent.voice_node",
    "planner_server": "cloud_planner.server",
})

# "screen": stdout and stderr to the console; "log": only to the log file (stderr also to the
# console, as ros2 launch does); "both": console and log file.
OUTPUT_MODES: tuple[str, ...] = ("screen", "log", "both")

DEFAULT_SIGTERM_TIMEOUT_S = 5.0
DEFAULT_SIGKILL_TIMEOUT_S = 5.0
_MAX_INCLUDE_DEPTH = 32

ParameterValue = bool | int | float | str | list


class LaunchError(Exception):
    """A launch file cannot be parsed or evaluated; the message says where and why."""

    def __init__(self, message: str, *, located: bool = False) -> None:
        super().__init__(message)
        self.located = located


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchArgument:
    """One ``<arg>`` declaration, as written (default unevaluated) for help output."""

    name: str
    default: str | None
    description: str = ""
    choices: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class NodeDetails:
    """What a ``<node>`` asked for, kept beside its final command line for inspection and tests."""

    package: str | None
    executable: str
    node_name: str | None
    namespace: str | None
    parameters: tuple[tuple[str, ParameterValue], ...] = ()
    parameter_files: tuple[str, ...] = ()
    remappings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProcessSpec:
    """One process to run: final argv, environment changes and supervision settings.

    ``env`` holds only the variables the launch file sets (``<set_env>``, ``<env>``, ...); the
    runner overlays them on its own environment and removes ``unset_env``.
    """

    name: str
    cmd: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    unset_env: tuple[str, ...] = ()
    cwd: str | None = None
    required: bool = False
    output: str = "log"
    shell: bool = False
    sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT_S
    sigkill_timeout: float = DEFAULT_SIGKILL_TIMEOUT_S
    node: NodeDetails | None = None


@dataclass(frozen=True)
class LaunchDescription:
    """Everything a launch file resolved to, in the order it would start."""

    source: Path
    processes: tuple[ProcessSpec, ...]
    arguments: tuple[LaunchArgument, ...]
    configurations: Mapping[str, str]
    messages: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Small public helpers
# --------------------------------------------------------------------------------------------


def parse_launch_arguments(tokens: Iterable[str]) -> dict[str, str]:
    """Turn command-line ``name:=value`` tokens into a dict, as ``ros2 launch`` accepts them."""
    result: dict[str, str] = {}
    for token in tokens:
        name, sep, value = token.partition(":=")
        if not sep or not name:
            raise LaunchError(f"launch arguments are written name:=value, got {token!r}")
        result[name] = value
    return result


def evaluate_condition(text: str) -> bool:
    """Evaluate an ``if``/``unless`` value the way ROS 2 does: true/1 or false/0, any case."""
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise LaunchError(f"condition must evaluate to true/false/1/0, got {text!r}")


def find_package_share(package: str) -> Path:
    """Return the directory holding ``launch/`` for ``$(find-pkg-share reflexarc)``.

    A source checkout (editable install) resolves to the repository root; an installed copy may
    ship its launch files under ``<prefix>/share/reflexarc`` as ament packages do.
    """
    if package != PACKAGE_NAME:
        raise LaunchError(f"package {package!r} is not available here; only {PACKAGE_NAME!r} is")
    candidates = (Path(__file__).resolve().parent.parent, Path(sys.prefix) / "share" / PACKAGE_NAME)
    for candidate in candidates:
        if (candidate / "launch").is_dir():
            return candidate
    raise LaunchError(
        f"cannot find the share directory of {PACKAGE_NAME!r}: none of "
        f"{', '.join(str(c) for c in candidates)} holds a launch/ directory"
    )


def resolve_node_command(package: str | None, executable: str) -> tuple[str, ...]:
    """Map ``<node pkg exec>`` to the argv prefix that starts it in this environment.

    The console script ``<sys.prefix>/bin/<exec>`` is preferred (what ``ros2 run`` would find);
    otherwise ``python -m`` of the module in :data:`NODE_MODULES`. Without ``pkg`` the executable
    is taken as a command, as launch_ros does.
    """
    if package is None:
        return (executable,)
    if package != PACKAGE_NAME:
        raise LaunchError(
            f"package {package!r} is not available here; only {PACKAGE_NAME!r} nodes can run"
        )
    script = Path(sys.prefix) / "bin" / executable
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script),)
    module = NODE_MODULES.get(executable)
    if module is not None:
        return (sys.executable, "-m", module)
    raise LaunchError(
        f"no executable {executable!r} in package {PACKAGE_NAME!r}: {script} does not exist and "
        f"it is not one of {', '.join(sorted(NODE_MODULES))}"
    )


_PARAM_TYPES = ("str", "int", "float", "bool", "list_of_str", "list_of_int", "list_of_float", "list_of_bool")


def typed_parameter_value(value: str | Sequence[str], type_name: str | None = None) -> ParameterValue:
    """Type a ``<param value>`` as ROS 2 launch does: YAML rules, or the explicit ``type``.

    ``"1"`` is an int, ``"1.0"`` a float, ``"true"`` a bool, ``"'1'"`` the string ``1``,
    ``"[1, 2]"`` a list of ints; anything else (maps, mixed lists, nulls) stays the raw string.
    A sequence is the result of ``value-sep`` splitting.
    """
    if type_name is not None and type_name not in _PARAM_TYPES:
        raise LaunchError(f"unknown parameter type {type_name!r}; use one of {', '.join(_PARAM_TYPES)}")
    if isinstance(value, str):
        if type_name == "str":
            return value
        loaded = _yaml_or_text(value)
        if type_name is None:
            return _guess_scalar_or_list(value, loaded)
        return _coerce(loaded, type_name, value)
    items = list(value)
    if type_name == "list_of_str":
        return items
    loaded_items = [_yaml_or_text(item) for item in items]
    if type_name is None:
        return _guess_list(items, loaded_items)
    return _coerce(loaded_items, type_name, value)


def format_parameter_value(value: ParameterValue) -> str:
    """Render a typed value as the YAML text rcl reads back to the same type (``-p name:=TEXT``)."""
    if isinstance(value, list):
        return "[" + ", ".join(_format_scalar(item, in_list=True) for item in value) + "]"
    return _format_scalar(value, in_list=False)


def _yaml_or_text(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _is_scalar(value: object) -> bool:
    return isinstance(value, (bool, int, float, str))


def _guess_scalar_or_list(text: str, loaded: object) -> ParameterValue:
    if _is_scalar(loaded):
        return loaded  # type: ignore[return-value]
    if isinstance(loaded, list) and loaded and all(_is_scalar(item) for item in loaded):
        uniform = _uniform_list(loaded)
        if uniform is not None:
            return uniform
    return text


def _guess_list(items: list[str], loaded: list[object]) -> list:
    uniform = _uniform_list(loaded) if all(_is_scalar(x) for x in loaded) else None
    return uniform if uniform is not None else items


def _uniform_list(items: list) -> list | None:
    kinds = {bool if isinstance(x, bool) else type(x) for x in items}
    if len(kinds) == 1:
        return list(items)
    if kinds == {int, float}:
        return [float(x) for x in items]
    return None


def _coerce(loaded: object, type_name: str, original: object) -> ParameterValue:
    def bad() -> LaunchError:
        return LaunchError(f"value {original!r} is not a valid {type_name}")

    def scalar(item: object, kind: str) -> ParameterValue:
        if kind == "bool" and isinstance(item, bool):
            return item
        if kind == "int" and isinstance(item, int) and not isinstance(item, bool):
            return item
        if kind == "float" and isinstance(item, (int, float)) and not isinstance(item, bool):
            return float(item)
        if kind == "str":
            return str(item)
        raise bad()

    if type_name.startswith("list_of_"):
        if not isinstance(loaded, list):
            raise bad()
        return [scalar(item, type_name[len("list_of_"):]) for item in loaded]
    return scalar(loaded, type_name)


def _format_scalar(value: object, *, in_list: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    if not in_list and "\n" not in text and _yaml_or_text(text) == text:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


# --------------------------------------------------------------------------------------------
# XML reading (with line numbers for error messages)
# --------------------------------------------------------------------------------------------


@dataclass
class _Element:
    tag: str
    attrib: dict[str, str]
    line: int
    children: list[_Element] = field(default_factory=list)


def _read_xml(path: Path) -> _Element:
    parser = xml.parsers.expat.ParserCreate()
    roots: list[_Element] = []
    stack: list[_Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, dict(attrs), parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with path.open("rb") as handle:
            parser.ParseFile(handle)
    except OSError as exc:
        raise LaunchError(f"cannot read launch file {path}: {exc.strerror}", located=True) from exc
    except xml.parsers.expat.ExpatError as exc:
        raise LaunchError(
            f"{path}:{exc.lineno}: not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)}",
            located=True,
        ) from exc
    root = roots[0]
    if root.tag != "launch":
        raise LaunchError(f"{path}:{root.line}: the root element must be <launch>, got <{root.tag}>",
                          located=True)
    return root


# --------------------------------------------------------------------------------------------
# Static schema (checked for the whole file up front, as ros2 launch parses before it runs)
# --------------------------------------------------------------------------------------------

_CONDITIONS = frozenset({"if", "unless"})
_PROCESS_ATTRS = frozenset({
    "name", "cwd", "launch-prefix", "output", "emulate_tty", "sigterm_timeout", "sigkill_timeout",
    "on_exit", "required", "respawn",
})
_ACTION_ATTRS: Mapping[str, frozenset[str]] = MappingProxyType({
    "arg": frozenset({"name", "default", "description"}),
    "let": frozenset({"name", "value"}),
    "include": frozenset({"file"}),
    "group": frozenset({"scoped", "forwarding"}),
    "push_ros_namespace": frozenset({"namespace"}),
    "push-ros-namespace": frozenset({"namespace"}),
    "set_env": frozenset({"name", "value"}),
    "unset_env": frozenset({"name"}),
    "append_env": frozenset({"name", "value", "prepend", "separator"}),
    "set_parameter": frozenset({"name", "value"}),
    "set_remap": frozenset({"from", "to"}),
    "log": frozenset({"message"}),
    "executable": _PROCESS_ATTRS | {"cmd", "shell"},
    "node": _PROCESS_ATTRS | {"pkg", "exec", "namespace", "args", "ros_args", "exec_name"},
})
_ACTIONS = frozenset(_ACTION_ATTRS)
# tag -> (allowed attributes, allowed child tags) for tags that are not actions.
_SUB_TAGS: Mapping[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = MappingProxyType({
    ("include", "arg"): (frozenset({"name", "value"}), frozenset()),
    ("arg", "choice"): (frozenset({"value"}), frozenset()),
    ("group", "keep"): (frozenset({"name", "value"}), frozenset()),
    ("node", "param"): (frozenset({"name", "value", "from", "type", "value-sep"}), frozenset({"param"})),
    ("param", "param"): (frozenset({"name", "value", "type", "value-sep"}), frozenset({"param"})),
    ("node", "remap"): (frozenset({"from", "to"}), frozenset()),
    ("node", "env"): (frozenset({"name", "value"}), frozenset()),
    ("executable", "env"): (frozenset({"name", "value"}), frozenset()),
})
_ACTION_CHILDREN: Mapping[str, frozenset[str]] = MappingProxyType({
    "launch": _ACTIONS,
    "group": _ACTIONS | {"keep"},
    "include": frozenset({"arg"}),
    "arg": frozenset({"choice"}),
    "node": frozenset({"param", "remap", "env"}),
    "executable": frozenset({"env"}),
})
_HINTS: Mapping[tuple[str, str], str] = MappingProxyType({
    ("group", "ns"): "ROS 2 groups take <push_ros_namespace namespace=\"...\"/> as their first child",
    ("arg", "value"): "use default=\"...\" (or <let> for a fixed value)",
    ("node", "type"): "ROS 2 spells it exec=\"...\"",
    ("node", "ns"): "ROS 2 spells it namespace=\"...\"",
})


def _validate(element: _Element, path: Path, parent: str | None = None) -> None:
    tag = element.tag
    if parent is None:
        allowed_attrs: frozenset[str] = frozenset({"version"})
        allowed_children = _ACTION_CHILDREN["launch"]
    elif tag in _ACTIONS and parent in ("launch", "group"):
        allowed_attrs = _ACTION_ATTRS[tag] | _CONDITIONS
        allowed_children = _ACTION_CHILDREN.get(tag, frozenset())
    else:
        allowed_attrs, allowed_children = _SUB_TAGS[(parent, tag)]
    for name in element.attrib:
        if name not in allowed_attrs:
            hint = _HINTS.get((tag, name))
            raise LaunchError(
                f"{path}:{element.line}: <{tag}> does not take attribute {name!r}"
                + (f" ({hint})" if hint else f"; allowed: {', '.join(sorted(allowed_attrs))}"),
                located=True,
            )
    for child in element.children:
        if child.tag not in allowed_children:
            where = "here" if allowed_children else "no children"
            raise LaunchError(
                f"{path}:{child.line}: <{child.tag}> is not supported inside <{tag}> ({where}"
                + (f": {', '.join(sorted(allowed_children))})" if allowed_children else ")"),
                located=True,
            )
        _validate(child, path, tag)


# --------------------------------------------------------------------------------------------
# Substitutions: $(name arg ...)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sub:
    name: str
    args: tuple[tuple[_Part, ...], ...]


_Part = str | _Sub
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class _TemplateParser:
    """Recursive-descent parser for the launch substitution grammar (ros2/launch grammar.lark).

    Outside ``$(...)`` everything is literal text (quotes included); a backslash escapes the next
    character. Arguments are separated by spaces and may be single- or double-quoted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> LaunchError:
        return LaunchError(f"bad substitution in {self.text!r} at column {self.pos + 1}: {message}")

    def template(self) -> list[_Part]:
        parts: list[_Part] = []
        buffer: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                buffer.append(self.text[self.pos + 1])
                self.pos += 2
            elif self.text.startswith("$(", self.pos):
                if buffer:
                    parts.append("".join(buffer))
                    buffer = []
                parts.append(self.substitution())
            else:
                buffer.append(char)
                self.pos += 1
        if buffer:
            parts.append("".join(buffer))
        return parts

    def substitution(self) -> _Sub:
        self.pos += 2
        match = _IDENTIFIER.match(self.text, self.pos)
        if not match:
            raise self.error("expected a substitution name after '$('")
        name = match.group(0)
        self.pos = match.end()
        args: list[tuple[_Part, ...]] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error(f"unterminated $({name} ...")
            char = self.text[self.pos]
            if char == ")":
                self.pos += 1
                return _Sub(name, tuple(args))
            if char != " ":
                raise self.error(f"unexpected {char!r} in $({name} ...)")
            while self.pos < len(self.text) and self.text[self.pos] == " ":
                self.pos += 1
            if self.pos < len(self.text) and self.text[self.pos] != ")":
                args.append(self.argument())

    def argument(self) -> tuple[_Part, ...]:
        quote = self.text[self.pos]
        if quote in "'\"":
            self.pos += 1
            return self._until(stop=quote, quoted=True)
        return self._until(stop=" )", quoted=False)

    def _until(self, *, stop: str, quoted: bool) -> tuple[_Part, ...]:
        parts: list[_Part] = []
        buffer: list[str] = []
        while True:
            if self.pos >= len(self.text):
                if quoted:
                    raise self.error(f"unterminated {stop} quote")
                raise self.error("unterminated substitution")
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                buffer.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char in stop:
                if quoted:
                    self.pos += 1
                break
            if self.text.startswith("$(", self.pos):
                if buffer:
                    parts.append("".join(buffer))
                    buffer = []
                parts.append(self.substitution())
                continue
            if not quoted and char in "'\"(":
                raise self.error(f"{char!r} inside an unquoted argument; quote the argument")
            buffer.append(char)
            self.pos += 1
        if buffer:
            parts.append("".join(buffer))
        return tuple(parts)


def _parse_template(text: str) -> list[_Part]:
    return _TemplateParser(text).template()


_EVAL_BINOPS: Mapping[type, Callable[[object, object], object]] = MappingProxyType({
    ast.Add: lambda a, b: a + b,  # type: ignore[operator]
    ast.Sub: lambda a, b: a - b,  # type: ignore[operator]
    ast.Mult: lambda a, b: a * b,  # type: ignore[operator]
    ast.Div: lambda a, b: a / b,  # type: ignore[operator]
    ast.FloorDiv: lambda a, b: a // b,  # type: ignore[operator]
    ast.Mod: lambda a, b: a % b,  # type: ignore[operator]
})
_EVAL_COMPARE: Mapping[type, Callable[[object, object], bool]] = MappingProxyType({
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,  # type: ignore[operator]
    ast.LtE: lambda a, b: a <= b,  # type: ignore[operator]
    ast.Gt: lambda a, b: a > b,  # type: ignore[operator]
    ast.GtE: lambda a, b: a >= b,  # type: ignore[operator]
    ast.In: lambda a, b: a in b,  # type: ignore[operator]
    ast.NotIn: lambda a, b: a not in b,  # type: ignore[operator]
})


def _safe_eval(expression: str) -> object:
    """Evaluate literals, ``and/or/not``, comparisons and arithmetic; names and calls are refused.

    ROS 2's ``$(eval)`` runs arbitrary Python; here launch files (and their arguments, which come
    from the command line) cannot execute code.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise LaunchError(f"$(eval) cannot parse {expression!r}: {exc.msg}") from exc

    def number(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LaunchError(f"$(eval {expression!r}): arithmetic needs numbers, got {value!r}")
        return value

    def visit(node: ast.AST) -> object:
        if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float, str, type(None))):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(visit(item) for item in node.elts)
        if isinstance(node, ast.UnaryOp):
            operand = visit(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, ast.USub):
                return -number(operand)  # type: ignore[operator]
            if isinstance(node.op, ast.UAdd):
                return number(operand)
        if isinstance(node, ast.BoolOp):
            values = [visit(value) for value in node.values]
            if isinstance(node.op, ast.And):
                return all(values)
            return any(values)
        if isinstance(node, ast.Compare):
            left = visit(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = visit(comparator)
                compare = _EVAL_COMPARE.get(type(op))
                if compare is None:
                    break
                try:
                    if not compare(left, right):
                        return False
                except TypeError as exc:
                    raise LaunchError(f"$(eval {expression!r}): {exc}") from exc
                left = right
            else:
                return True
        if isinstance(node, ast.BinOp) and type(node.op) in _EVAL_BINOPS:
            left, right = visit(node.left), visit(node.right)
            if not (isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str)):
                number(left)
                number(right)
            try:
                return _EVAL_BINOPS[type(node.op)](left, right)
            except ZeroDivisionError as exc:
                raise LaunchError(f"$(eval {expression!r}): division by zero") from exc
        if isinstance(node, ast.IfExp):
            return visit(node.body) if visit(node.test) else visit(node.orelse)
        raise LaunchError(
            f"$(eval {expression!r}): only literals, and/or/not, comparisons and arithmetic are "
            f"allowed here (found {type(node).__name__})"
        )

    return visit(tree.body)


def _as_comparable(text: str) -> object:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------------------------
# Evaluation state
# --------------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """Launch configurations and everything else a scoped ``<group>`` pushes and pops."""

    configurations: dict[str, str]
    env_changes: dict[str, str | None]
    ros_namespace: str | None = None
    global_ros_args: list[tuple[str, str]] = field(default_factory=list)
    global_remaps: list[tuple[str, str]] = field(default_factory=list)

    def copy(self) -> _Scope:
        return _Scope(dict(self.configurations), dict(self.env_changes), self.ros_namespace,
                      list(self.global_ros_args), list(self.global_remaps))


_NODE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAMESPACE = re.compile(r"/|(/[A-Za-z_][A-Za-z0-9_]*)+")


def _prefix_namespace(base: str | None, namespace: str | None) -> str | None:
    if namespace is None:
        return base
    if base is None or namespace.startswith("/"):
        return namespace
    return base.rstrip("/") + "/" + namespace


def _absolute_namespace(namespace: str | None) -> str | None:
    if namespace is None:
        return None
    namespace = namespace if namespace.startswith("/") else "/" + namespace
    return namespace.rstrip("/") or "/"


class _Evaluator:
    """Walks launch files in document order, accumulating processes (one instance per parse)."""

    def __init__(self, environ: Mapping[str, str],
                 resolve_node: Callable[[str | None, str], Sequence[str]]) -> None:
        self.base_environ = dict(environ)
        self.resolve_node = resolve_node
        self.processes: list[ProcessSpec] = []
        self.arguments: list[LaunchArgument] = []
        self.messages: list[str] = []
        self.labels: set[str] = set()
        self.file_stack: list[Path] = []

    # -- files and elements ------------------------------------------------------------------

    def run_file(self, path: Path, scope: _Scope) -> None:
        path = path.resolve()
        if path in self.file_stack:
            chain = " -> ".join(str(p) for p in [*self.file_stack, path])
            raise LaunchError(f"launch files include each other in a cycle: {chain}", located=True)
        if len(self.file_stack) >= _MAX_INCLUDE_DEPTH:
            raise LaunchError(f"includes nested deeper than {_MAX_INCLUDE_DEPTH}", located=True)
        root = _read_xml(path)
        _validate(root, path)
        self.file_stack.append(path)
        try:
            self.run_children(root.children, scope, path)
        finally:
            self.file_stack.pop()

    def run_children(self, elements: Iterable[_Element], scope: _Scope, path: Path) -> None:
        for element in elements:
            try:
                if self.condition_holds(element, scope, path):
                    getattr(self, "do_" + element.tag.replace("-", "_"))(element, scope, path)
            except LaunchError as exc:
                if exc.located:
                    raise
                raise LaunchError(f"{path}:{element.line}: <{element.tag}>: {exc}", located=True) from exc

    def condition_holds(self, element: _Element, scope: _Scope, path: Path) -> bool:
        if "if" in element.attrib and "unless" in element.attrib:
            raise LaunchError("use either if= or unless=, not both")
        if "if" in element.attrib:
            return evaluate_condition(self.subst(element.attrib["if"], scope, path))
        if "unless" in element.attrib:
            return not evaluate_condition(self.subst(element.attrib["unless"], scope, path))
        return True

    # -- substitutions -----------------------------------------------------------------------

    def environ(self, scope: _Scope) -> dict[str, str]:
        env = dict(self.base_environ)
        for name, value in scope.env_changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def subst(self, text: str, scope: _Scope, path: Path) -> str:
        return self.render(_parse_template(text), scope, path)

    def render(self, parts: Iterable[_Part], scope: _Scope, path: Path) -> str:
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                args = [self.render(arg, scope, path) for arg in part.args]
                out.append(self.call(part.name, args, scope, path))
        return "".join(out)

    def call(self, name: str, args: list[str], scope: _Scope, path: Path) -> str:
        def arity(low: int, high: int) -> None:
            if not low <= len(args) <= high:
                expected = str(low) if low == high else f"{low} to {high}"
                raise LaunchError(f"$({name}) takes {expected} argument(s), got {len(args)}")

        if name == "var":
            arity(1, 1)
            if args[0] not in scope.configurations:
                raise LaunchError(
                    f"launch configuration {args[0]!r} is not set (declare it with <arg> or <let>)"
                )
            return scope.configurations[args[0]]
        if name == "env":
            arity(1, 2)
            value = self.environ(scope).get(args[0], args[1] if len(args) == 2 else None)
            if value is None:
                raise LaunchError(
                    f"environment variable {args[0]!r} is not set (give a default: $(env {args[0]} VALUE))"
                )
            return value
        if name == "find-pkg-share":
            arity(1, 1)
            return str(find_package_share(args[0]))
        if name == "dirname":
            arity(0, 0)
            return str(path.parent)
        if name == "filename":
            arity(0, 0)
            return str(path)
        if name == "eval":
            if len(args) != 1:
                raise LaunchError(
                    f"$(eval) takes one argument, got {len(args)}; quote the whole expression: "
                    "$(eval \"'$(var a)' == 'x'\")"
                )
            return str(_safe_eval(args[0]))
        if name == "not":
            arity(1, 1)
            return _bool_text(not evaluate_condition(args[0]))
        if name in ("and", "or"):
            arity(2, 2)
            values = [evaluate_condition(arg) for arg in args]
            return _bool_text(all(values) if name == "and" else any(values))
        if name in ("equals", "not-equals"):
            arity(2, 2)
            same = _as_comparable(args[0]) == _as_comparable(args[1])
            return _bool_text(same if name == "equals" else not same)
        raise LaunchError(
            f"unsupported substitution $({name}); supported: var, env, find-pkg-share, dirname, "
            "filename, eval, not, and, or, equals, not-equals"
        )

    def cmdline(self, text: str, scope: _Scope, path: Path) -> list[str]:
        """Split a command line like ros2 launch: text is shell-split, a substitution stays one word."""
        words: list[str] = []
        current: list[str] = []
        pending = False  # current holds a (possibly empty) substitution result

        def flush() -> None:
            nonlocal current, pending
            if current or pending:
                words.append("".join(current))
            current, pending = [], False

        for part in _parse_template(text):
            if isinstance(part, _Sub):
                current.append(self.render([part], scope, path))
                pending = True
                continue
            try:
                tokens = shlex.split(part)
            except ValueError as exc:
                raise LaunchError(
                    f"cannot split command line {text!r}: {exc} (as in ros2 launch, quotes cannot "
                    "span a $(...); a substitution's value is always a single argument)"
                ) from exc
            if not tokens:
                flush()
                continue
            if part[0].isspace():
                flush()
            current.append(tokens[0])
            if len(tokens) > 1:
                flush()
                words.extend(tokens[1:-1])
                current.append(tokens[-1])
            if part[-1].isspace():
                flush()
        flush()
        return words

    # -- actions -----------------------------------------------------------------------------

    def required_attr(self, element: _Element, name: str) -> str:
        if name not in element.attrib:
            raise LaunchError(f"attribute {name!r} is required")
        return element.attrib[name]

    def do_arg(self, element: _Element, scope: _Scope, path: Path) -> None:
        name = _unescape(self.required_attr(element, "name"))
        default = element.attrib.get("default")
        description = _unescape(element.attrib.get("description", ""))
        choices = tuple(_unescape(self.required_attr(c, "value")) for c in element.children)
        self.arguments.append(LaunchArgument(name, default, description, choices, str(path)))
        if name not in scope.configurations:
            if default is None:
                about = f" ({description})" if description else ""
                raise LaunchError(
                    f"required launch argument {name!r}{about} was not provided; pass {name}:=VALUE"
                )
            scope.configurations[name] = self.subst(default, scope, path)
        if choices and scope.configurations[name] not in choices:
            raise LaunchError(
                f"argument {name!r} is {scope.configurations[name]!r}; valid choices are {', '.join(choices)}"
            )

    def do_let(self, element: _Element, scope: _Scope, path: Path) -> None:
        name = self.subst(self.required_attr(element, "name"), scope, path)
        scope.configurations[name] = self.subst(self.required_attr(element, "value"), scope, path)

    def do_group(self, element: _Element, scope: _Scope, path: Path) -> None:
        scoped = _parse_bool(element.attrib.get("scoped", "true"), "scoped")
        forwarding = _parse_bool(element.attrib.get("forwarding", "true"), "forwarding")
        keeps = [(self.subst(self.required_attr(k, "name"), scope, path),
                  self.subst(self.required_attr(k, "value"), scope, path))
                 for k in element.children if k.tag == "keep"]
        if not scoped:
            inner = scope
        elif forwarding:
            inner = scope.copy()
        else:
            inner = _Scope(configurations={}, env_changes={})
        inner.configurations.update(keeps)
        self.run_children([c for c in element.children if c.tag != "keep"], inner, path)

    def do_include(self, element: _Element, scope: _Scope, path: Path) -> None:
        target = Path(self.subst(self.required_attr(element, "file"), scope, path))
        if not target.is_absolute():
            target = Path.cwd() / target  # as ros2 launch resolves it; use $(dirname)/... instead
        if not target.is_file():
            raise LaunchError(f"included file {target} does not exist")
        if not target.name.endswith(".xml"):
            raise LaunchError(f"only XML launch files can be included here, not {target.name}")
        passed = [(self.subst(self.required_attr(a, "name"), scope, path),
                   self.subst(self.required_attr(a, "value"), scope, path)) for a in element.children]
        scope.configurations.update(passed)
        self.run_file(target, scope)

    def do_push_ros_namespace(self, element: _Element, scope: _Scope, path: Path) -> None:
        pushed = self.subst(self.required_attr(element, "namespace"), scope, path)
        namespace = _absolute_namespace(_prefix_namespace(scope.ros_namespace, pushed))
        _check_namespace(namespace)
        scope.ros_namespace = namespace

    def do_set_env(self, element: _Element, scope: _Scope, path: Path) -> None:
        name = self.subst(self.required_attr(element, "name"), scope, path)
        scope.env_changes[name] = self.subst(self.required_attr(element, "value"), scope, path)

    def do_unset_env(self, element: _Element, scope: _Scope, path: Path) -> None:
        scope.env_changes[self.subst(self.required_attr(element, "name"), scope, path)] = None

    def do_append_env(self, element: _Element, scope: _Scope, path: Path) -> None:
        name = self.subst(self.required_attr(element, "name"), scope, path)
        value = self.subst(self.required_attr(element, "value"), scope, path)
        prepend = _parse_bool(self.subst(element.attrib.get("prepend", "false"), scope, path), "prepend")
        separator = self.subst(element.attrib.get("separator", os.pathsep), scope, path)
        current = self.environ(scope).get(name, "")
        if current:
            value = value + separator + current if prepend else current + separator + value
        scope.env_changes[name] = value

    def do_set_parameter(self, element: _Element, scope: _Scope, path: Path) -> None:
        name = self.subst(self.required_attr(element, "name"), scope, path)
        value = typed_parameter_value(self.subst(self.required_attr(element, "value"), scope, path))
        scope.global_ros_args.append(("-p", f"{name}:={format_parameter_value(value)}"))

    def do_set_remap(self, element: _Element, scope: _Scope, path: Path) -> None:
        scope.global_remaps.append((self.subst(self.required_attr(element, "from"), scope, path),
                                    self.subst(self.required_attr(element, "to"), scope, path)))

    def do_log(self, element: _Element, scope: _Scope, path: Path) -> None:
        message = self.subst(self.required_attr(element, "message"), scope, path)
        _LOG.info("%s", message)
        self.messages.append(message)

    def do_executable(self, element: _Element, scope: _Scope, path: Path) -> None:
        cmd = self.cmdline(self.required_attr(element, "cmd"), scope, path)
        if not cmd:
            raise LaunchError("cmd is empty")
        shell = _parse_bool(self.subst(element.attrib.get("shell", "false"), scope, path), "shell")
        label = self.subst(element.attrib["name"], scope, path) if "name" in element.attrib else \
            os.path.basename(cmd[0])
        self.add_process(element, scope, path, label=label, cmd=cmd, shell=shell, node=None)

    def do_node(self, element: _Element, scope: _Scope, path: Path) -> None:
        package = self.subst(element.attrib["pkg"], scope, path) if "pkg" in element.attrib else None
        executable = self.subst(self.required_attr(element, "exec"), scope, path)
        node_name = self.subst(element.attrib["name"], scope, path) if "name" in element.attrib else None
        if node_name is not None and not _NODE_NAME.fullmatch(node_name):
            raise LaunchError(f"invalid node name {node_name!r} (letters, digits and _; no leading digit)")
        own_ns = self.subst(element.attrib["namespace"], scope, path) if "namespace" in element.attrib else None
        namespace = _absolute_namespace(_prefix_namespace(scope.ros_namespace, own_ns))
        if namespace is not None:
            _check_namespace(namespace)

        parameters: list[tuple[str, ParameterValue]] = []
        parameter_files: list[str] = []
        param_args: list[str] = []
        remaps = list(scope.global_remaps)
        for child in element.children:
            if child.tag == "param":
                self.node_param(child, scope, path, "", parameters, parameter_files, param_args)
            elif child.tag == "remap":
                remaps.append((self.subst(self.required_attr(child, "from"), scope, path),
                               self.subst(self.required_attr(child, "to"), scope, path)))

        cmd = list(self.resolve_node(package, executable))
        if "args" in element.attrib:
            cmd += self.cmdline(element.attrib["args"], scope, path)
        if "ros_args" in element.attrib:
            cmd += ["--ros-args", *self.cmdline(element.attrib["ros_args"], scope, path)]
        cmd.append("--ros-args")
        if node_name is not None:
            cmd += ["-r", f"__node:={node_name}"]
        if namespace is not None:
            cmd += ["-r", f"__ns:={namespace}"]
        for flag, value in scope.global_ros_args:
            cmd += [flag, value]
        cmd += param_args
        for source, target in remaps:
            cmd += ["-r", f"{source}:={target}"]

        if "exec_name" in element.attrib:
            label = self.subst(element.attrib["exec_name"], scope, path)
        else:
            base = node_name or os.path.basename(executable)
            label = base if namespace in (None, "/") else f"{namespace.strip('/')}/{base}"
        details = NodeDetails(package, executable, node_name, namespace, tuple(parameters),
                              tuple(parameter_files), tuple(remaps))
        self.add_process(element, scope, path, label=label, cmd=cmd, shell=False, node=details)

    def node_param(self, element: _Element, scope: _Scope, path: Path, prefix: str,
                   parameters: list[tuple[str, ParameterValue]], parameter_files: list[str],
                   param_args: list[str]) -> None:
        attrs = element.attrib
        if "from" in attrs:
            if "name" in attrs or element.children or "value" in attrs:
                raise LaunchError("<param from=...> takes no name, value or nested params")
            params_file = Path(self.subst(attrs["from"], scope, path))
            if not params_file.is_absolute():
                params_file = Path.cwd() / params_file
            if not params_file.is_file():
                raise LaunchError(f"parameter file {params_file} does not exist")
            parameter_files.append(str(params_file))
            param_args += ["--params-file", str(params_file)]
            return
        name = prefix + self.subst(self.required_attr(element, "name"), scope, path)
        if "value" in attrs:
            if element.children:
                raise LaunchError(f"param {name!r} has both a value and nested params")
            if "value-sep" in attrs:
                raw: str | list[str] = [self.subst(item, scope, path)
                                        for item in attrs["value"].split(attrs["value-sep"])]
            else:
                raw = self.subst(attrs["value"], scope, path)
            try:
                value = typed_parameter_value(raw, attrs.get("type"))
            except LaunchError as exc:
                raise LaunchError(f"param {name!r}: {exc}") from exc
            parameters.append((name, value))
            param_args += ["-p", f"{name}:={format_parameter_value(value)}"]
        elif element.children:
            for child in element.children:
                self.node_param(child, scope, path, name + ".", parameters, parameter_files, param_args)
        else:
            raise LaunchError(f"param {name!r} needs a value or nested params")

    def add_process(self, element: _Element, scope: _Scope, path: Path, *, label: str,
                    cmd: list[str], shell: bool, node: NodeDetails | None) -> None:
        attrs = element.attrib

        def text(name: str, default: str) -> str:
            return self.subst(attrs[name], scope, path) if name in attrs else default

        output = text("output", "log")
        if output == "own_log":
            output = "log"
        if output not in OUTPUT_MODES:
            raise LaunchError(f"output must be one of {', '.join(OUTPUT_MODES)}, got {output!r}")
        on_exit = text("on_exit", "")
        if on_exit not in ("", "shutdown"):
            raise LaunchError(f"on_exit supports only 'shutdown', got {on_exit!r}")
        required = on_exit == "shutdown" or _parse_bool(text("required", "false"), "required")
        if _parse_bool(text("respawn", "false"), "respawn"):
            raise LaunchError("respawn=\"true\" is not supported by this runner")
        prefix = shlex.split(text("launch-prefix", ""))
        env: dict[str, str] = {k: v for k, v in scope.env_changes.items() if v is not None}
        unset = [k for k, v in scope.env_changes.items() if v is None]
        for child in element.children:
            if child.tag == "env":
                env[self.subst(self.required_attr(child, "name"), scope, path)] = \
                    self.subst(self.required_attr(child, "value"), scope, path)
        unset = [k for k in unset if k not in env]
        cwd = text("cwd", "") or None
        self.processes.append(ProcessSpec(
            name=self.unique_label(label),
            cmd=tuple(prefix + cmd),
            env=env,
            unset_env=tuple(unset),
            cwd=cwd,
            required=required,
            output=output,
            shell=shell,
            sigterm_timeout=_parse_seconds(text("sigterm_timeout", str(DEFAULT_SIGTERM_TIMEOUT_S)),
                                           "sigterm_timeout"),
            sigkill_timeout=_parse_seconds(text("sigkill_timeout", str(DEFAULT_SIGKILL_TIMEOUT_S)),
                                           "sigkill_timeout"),
            node=node,
        ))

    def unique_label(self, label: str) -> str:
        candidate, index = label, 1
        while candidate in self.labels:
            index += 1
            candidate = f"{label}-{index}"
        self.labels.add(candidate)
        return candidate


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _parse_bool(text: str, what: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise LaunchError(f"{what} must be true or false, got {text!r}")


def _parse_seconds(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise LaunchError(f"{what} must be a number of seconds, got {text!r}") from exc
    if value < 0 or math.isnan(value):
        raise LaunchError(f"{what} must be non-negative, got {text!r}")
    return value


def _check_namespace(namespace: str | None) -> None:
    if namespace is not None and not _NAMESPACE.fullmatch(namespace):
        raise LaunchError(f"invalid ROS namespace {namespace!r}")


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def parse_launch_file(
    path: str | os.PathLike[str],
    args: Mapping[str, str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    resolve_node: Callable[[str | None, str], Sequence[str]] = resolve_node_command,
) -> LaunchDescription:
    """Evaluate a launch file with command-line ``args`` into a :class:`LaunchDescription`.

    Args:
        path: the ``.launch.xml`` file.
        args: launch arguments, as ``name:=value`` on the command line.
        environ: environment for ``$(env ...)``; the current ``os.environ`` when omitted.
        resolve_node: maps ``(pkg, exec)`` of a ``<node>`` to its argv prefix.

    Raises:
        LaunchError: with ``file:line`` for malformed files, missing required arguments,
            unknown tags, attributes or substitutions, and failed lookups.
    """
    source = Path(path).resolve()
    scope = _Scope(configurations=dict(args or {}), env_changes={})
    evaluator = _Evaluator(os.environ if environ is None else environ, resolve_node)
    evaluator.run_file(source, scope)
    declared = {argument.name for argument in evaluator.arguments}
    undeclared = sorted(set(args or {}) - declared)
    if undeclared:
        _LOG.warning("launch arguments not declared by %s: %s", source.name, ", ".join(undeclared))
    return LaunchDescription(
        source=source,
        processes=tuple(evaluator.processes),
        arguments=tuple(evaluator.arguments),
        configurations=MappingProxyType(dict(scope.configurations)),
        messages=tuple(evaluator.messages),
    )


def declared_arguments(path: str | os.PathLike[str]) -> tuple[LaunchArgument, ...]:
    """List the top-level ``<arg>`` declarations of a file without evaluating it (``--show-args``)."""
    source = Path(path).resolve()
    root = _read_xml(source)
    _validate(root, source)
    return tuple(
        LaunchArgument(
            name=_unescape(element.attrib.get("name", "")),
            default=element.attrib.get("default"),
            description=_unescape(element.attrib.get("description", "")),
            choices=tuple(_unescape(c.attrib.get("value", "")) for c in element.children),
            source=str(source),
        )
        for element in root.children
        if element.tag == "arg"
    )
