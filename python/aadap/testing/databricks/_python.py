"""A tiny evaluator for the default results of Python commands: no code is ever executed, only
literals, names bound by earlier simple assignments in the same context, arithmetic and a few
pure builtins are evaluated (see :meth:`FakeDatabricks.add_command` for the exact limits)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

_DATABRICKS_GLOBALS = frozenset(
    {"spark", "sc", "sqlContext", "dbutils", "display", "displayHTML", "table", "sql", "udf",
     "getArgument", "pd", "np"}
)  # fmt: skip


_SAFE_BUILTINS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "bool": bool,
    "float": float,
    "int": int,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "repr": repr,
    "round": round,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": tuple,
}


class _PythonError(Exception):
    def __init__(self, name: str, message: str, line: int) -> None:
        super().__init__(message)
        self.name, self.message, self.line = name, message, line


class UnsupportedError(Exception):
    pass


def run_python(source: str, variables: dict[str, Any], cell: str) -> dict[str, Any]:
    try:
        tree = ast.parse(source, filename=f"<{cell}>")
    except SyntaxError as error:
        line = error.lineno or 1
        lines = source.splitlines() or [""]
        shown = lines[min(line, len(lines)) - 1]
        caret = " " * max((error.offset or 1) - 1, 0) + "^"
        message = f"{error.msg} ({cell}, line {line})"
        return {
            "resultType": "error",
            "summary": f"<span class='ansi-red-fg'>SyntaxError</span>: {message}",
            "cause": (
                f"  File <{cell}>:{line}\n    {shown}\n    {caret}\nSyntaxError: {error.msg}\n"
            ),
        }
    printed: list[str] = []
    try:
        for statement in tree.body:
            _exec_statement(statement, variables, printed)
    except _PythonError as error:
        return _python_error(error, source, cell)
    text = "".join(printed)
    return {"resultType": "text", "data": text[:-1] if text.endswith("\n") else text}


def _python_error(error: _PythonError, source: str, cell: str) -> dict[str, Any]:
    lines = source.splitlines() or [""]
    shown = lines[min(error.line, len(lines)) - 1]
    detail = f"{error.name}: {error.message}" if error.message else error.name
    cause = (
        "---------------------------------------------------------------------------\n"
        f"{error.name:<42}Traceback (most recent call last)\n"
        f"File <{cell}>:{error.line}\n"
        f"----> {error.line} {shown}\n\n"
        f"{detail}"
    )
    summary = f"<span class='ansi-red-fg'>{error.name}</span>"
    if error.message:
        summary += f": {xml_escape(error.message)}"
    return {"resultType": "error", "summary": summary, "cause": cause}


def _exec_statement(node: ast.stmt, variables: dict[str, Any], printed: list[str]) -> None:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
        return
    if isinstance(node, ast.Expr):
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
            and "print" not in variables
        ):
            args = [_eval(arg, variables) for arg in call.args]
            options = {"sep": " ", "end": "\n"}
            for keyword in call.keywords:
                if keyword.arg not in options:
                    raise UnsupportedError(f"print(..., {keyword.arg}=...) is not evaluated")
                value = _eval(keyword.value, variables)
                if value is not None and not isinstance(value, str):
                    raise _PythonError(
                        "TypeError",
                        f"{keyword.arg} must be None or a string, not {type(value).__name__}",
                        node.lineno,
                    )
                if value is not None:
                    options[keyword.arg] = value
            printed.append(
                _guarded(lambda: options["sep"].join(str(arg) for arg in args), node.lineno)
                + options["end"]
            )
            return
        _eval(call, variables)
        return
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        value = _eval(node.value, variables)
        for target in node.targets:
            assert isinstance(target, ast.Name)
            variables[target.id] = value
        return
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        current = _eval(ast.Name(node.target.id, ast.Load(), lineno=node.lineno), variables)
        variables[node.target.id] = _binary(
            node.op, current, _eval(node.value, variables), node.lineno
        )
        return
    if isinstance(node, ast.Raise):
        _raise(node, variables)
    raise UnsupportedError(f"a {type(node).__name__} statement is not evaluated")


def _raise(node: ast.Raise, variables: dict[str, Any]) -> None:
    exc = node.exc
    if exc is None:
        raise _PythonError("RuntimeError", "No active exception to reraise", node.lineno)
    target, args = (exc.func, exc.args) if isinstance(exc, ast.Call) else (exc, [])
    if not isinstance(target, ast.Name):
        raise UnsupportedError("raise of something other than a named exception")
    name = target.id
    builtin = getattr(builtins, name, None)
    if not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
        if name in _DATABRICKS_GLOBALS or name in variables:
            raise UnsupportedError(f"raise {name}(...)")
        raise _PythonError("NameError", f"name '{name}' is not defined", node.lineno)
    values = [_eval(arg, variables) for arg in args]
    message = str(values[0]) if len(values) == 1 else (str(tuple(values)) if values else "")
    if name == "KeyError" and len(values) == 1:
        message = repr(values[0])
    raise _PythonError(name, message, node.lineno)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


def _guarded(function: Callable[[], Any], line: int) -> Any:
    try:
        return function()
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as error:
        message = repr(error.args[0]) if isinstance(error, KeyError) else str(error)
        raise _PythonError(type(error).__name__, message, line) from None


def _binary(op: ast.operator, left: Any, right: Any, line: int) -> Any:
    operation = _BINARY.get(type(op))
    if operation is None:
        raise UnsupportedError(f"the operator {type(op).__name__} is not evaluated")
    if (
        isinstance(op, ast.Pow)
        and isinstance(left, int)
        and isinstance(right, int)
        and (abs(right) > 10_000 or left.bit_length() * abs(right) > 1_000_000)
    ):
        raise UnsupportedError("a huge power is not evaluated")
    if isinstance(op, ast.Mult):
        sized = [v for v in (left, right) if isinstance(v, str | bytes | list | tuple)]
        count = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
        if sized and count and len(sized[0]) * count[0] > 10_000_000:
            raise UnsupportedError("a huge repetition is not evaluated")
    return _guarded(lambda: operation(left, right), line)


def _eval(node: ast.expr, variables: dict[str, Any]) -> Any:
    line = getattr(node, "lineno", 1)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        if node.id in _SAFE_BUILTINS:
            return _SAFE_BUILTINS[node.id]
        if node.id in _DATABRICKS_GLOBALS or hasattr(builtins, node.id):
            raise UnsupportedError(f"the name {node.id!r} is not evaluated")
        raise _PythonError("NameError", f"name '{node.id}' is not defined", line)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, variables)
        if isinstance(node.op, ast.USub):
            return _guarded(lambda: -operand, line)
        if isinstance(node.op, ast.UAdd):
            return _guarded(lambda: +operand, line)
        if isinstance(node.op, ast.Not):
            return not operand
        raise UnsupportedError("the operator ~ is not evaluated")
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _eval(node.left, variables), _eval(node.right, variables), line)
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for value_node in node.values:
            result = _eval(value_node, variables)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, variables)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, variables)
            compare = _COMPARE[type(op)]
            if not _guarded(lambda c=compare, a=left, b=right: c(a, b), line):  # type: ignore[misc]
                return False
            left = right
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_eval(element, variables) for element in node.elts]
        if isinstance(node, ast.List):
            return items
        return tuple(items) if isinstance(node, ast.Tuple) else _guarded(lambda: set(items), line)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise UnsupportedError("dict unpacking is not evaluated")
        pairs = [
            (_eval(key, variables), _eval(value, variables))
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None
        ]
        return _guarded(lambda: dict(pairs), line)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value_node in node.values:
            if isinstance(value_node, ast.FormattedValue):
                value = _eval(value_node.value, variables)
                if value_node.conversion == ord("r"):
                    value = repr(value)
                elif value_node.conversion == ord("s"):
                    value = str(value)
                elif value_node.conversion == ord("a"):
                    value = ascii(value)
                spec = (
                    ""
                    if value_node.format_spec is None
                    else _eval(value_node.format_spec, variables)
                )
                parts.append(_guarded(lambda v=value, s=spec: format(v, s), line))  # type: ignore[misc]
            else:
                parts.append(str(_eval(value_node, variables)))
        return "".join(parts)
    if isinstance(node, ast.Call) and not node.keywords:
        function = _eval(node.func, variables)
        if function not in _SAFE_BUILTINS.values():
            raise UnsupportedError("only a few pure builtins are called")
        args = [_eval(arg, variables) for arg in node.args]
        return _guarded(lambda: function(*args), line)
    raise UnsupportedError(f"a {type(node).__name__} expression is not evaluated")
