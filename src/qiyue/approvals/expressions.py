"""The safe expression language of workflow conditions, e.g.
``amount_cny > 500000 and type == "XS" and "战略客户" in tags``.

Expressions are evaluated by ``simpleeval`` (an AST-walking evaluator: no attribute
access to dunders, no imports, no calls except the few functions listed here, bounded
string and power sizes), never by ``eval``. The names an expression may use are the
record fields of :func:`record_names`."""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Any

import simpleeval
from django.utils.translation import gettext as _

MAX_LENGTH = 500

# Names with a sample value each, to check an expression when a workflow is saved.
SAMPLE: dict[str, Any] = {
    "amount": Decimal("100000.00"),
    "amount_cny": Decimal("100000.00"),
    "currency": "CNY",
    "type": "XS",
    "department": "销售一部",
    "confidentiality": "internal",
    "risk": "low",
    "auto_renew": False,
    "tax_rate": Decimal("6"),
    "notice_period_days": 30,
    "renewal_term_months": 12,
    "title": "",
    "customer": "",
    "tags": ["战略客户"],
    "relation": "",
    "owner": "sales1",
}
NAMES = tuple(SAMPLE)
FUNCTIONS = {"len": len, "abs": abs, "min": min, "max": max, "Decimal": Decimal}


class ExpressionError(ValueError):
    """An expression that cannot be used; the message is for the administrator."""


# simpleeval allows exponents up to 4,000,000: one ``9**4000000`` takes seconds, and a
# 500-character expression holds dozens of them (evaluated on every submission).
MAX_EXPONENT = 100


def _power(a: Any, b: Any) -> Any:
    if abs(b) > MAX_EXPONENT:
        raise simpleeval.NumberTooHigh(
            _("Exponents above %(n)d are not allowed.") % {"n": MAX_EXPONENT}
        )
    return simpleeval.safe_power(a, b)


def _evaluator(names: dict[str, Any]) -> simpleeval.EvalWithCompoundTypes:
    evaluator = simpleeval.EvalWithCompoundTypes(names=names, functions=FUNCTIONS)
    evaluator.operators = {**evaluator.operators, ast.Pow: _power}
    return evaluator


def evaluate(expression: str, names: dict[str, Any]) -> bool:
    """The truth of ``expression`` for the record ``names``; ExpressionError when it
    is malformed or fails (e.g. compares a missing amount with a number)."""
    expression = (expression or "").strip()
    if not expression:
        return True
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(_("At most %(n)d characters.") % {"n": MAX_LENGTH})
    evaluator = _evaluator(names)
    try:
        tree = evaluator.parse(expression)
        if not isinstance(tree, ast.Expr):  # an assignment or another statement
            raise SyntaxError(expression)
        _floats_to_decimal(tree)
        return bool(evaluator.eval(expression, previously_parsed=tree))
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(
            _("Unknown name %(name)s; use one of: %(names)s.")
            % {"name": str(exc.name)[:40], "names": ", ".join(NAMES)}
        ) from None
    except SyntaxError:
        raise ExpressionError(_("The expression is not well-formed.")) from None
    except simpleeval.InvalidExpression as exc:
        raise ExpressionError(
            _("The expression uses something not allowed: %(what)s") % {"what": str(exc)[:120]}
        ) from None
    except Exception as exc:
        raise ExpressionError(
            _("The expression cannot be evaluated: %(what)s") % {"what": str(exc)[:120]}
        ) from None


def _floats_to_decimal(tree: Any) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            node.value = Decimal(repr(node.value))  # type: ignore[assignment]


def check(expression: str) -> str:
    """The expression, stripped, if it evaluates on a sample record; else ExpressionError."""
    expression = (expression or "").strip()
    evaluate(expression, dict(SAMPLE))
    return expression
