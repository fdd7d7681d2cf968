"""Syntax errors told in words: what the parser found and what it expected instead.

The parser reports terminal names (``WORD``, ``_COMMA``); users should read "a name" and
"','". The names here are the terminals of ``grammar.lark``.
"""

from __future__ import annotations

from collections.abc import Iterable

from lark import Token

TERMINAL_WORDS = {
    "_NL": "end of line",
    "CTRL": "a control code like [B------:R-:W-:-:S01]",
    "AT": "a guard like @P0",
    "DIRECTIVE": "a directive",
    "WORD": "a name",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "CBANK": "a constant c[bank][offset]",
    "LSQB": "'['",
    "TICK": "a label `(name)",
    "VBAR": "'|'",
    "MINUS": "'-'",
    "PLUS": "'+'",
    "TILDE": "'~'",
    "BANG": "'!'",
    "STAR": "'*'",
    "_COMMA": "','",
    "_COLON": "':'",
    "RSQB": "']'",
    "RPAR": "')'",
    "SEMI": "';'",
    "$END": "end of text",
}
"""Each terminal of the grammar, in words, in the order expectations are listed."""
OPERAND_STARTS = frozenset({"WORD", "NUMBER", "CBANK", "LSQB", "TICK", "VBAR", "MINUS",
                            "PLUS", "TILDE", "BANG"})
"""Terminals that can begin an operand; when most are expected, say "an operand"."""
FOUND_WORDS = {"WORD": "name", "NUMBER": "number", "STRING": "string",
               "DIRECTIVE": "directive", "CTRL": "control code"}


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def describe_expected(names: Iterable[str]) -> str:
    """The terminals a parser state accepts, in words: "an operand, ';' or end of line"."""
    names = set(names)
    words = []
    if len(names & OPERAND_STARTS) >= 5:
        names -= OPERAND_STARTS
        words.append("an operand")
    words += [TERMINAL_WORDS[name] for name in TERMINAL_WORDS if name in names]
    words += sorted(name.lower() for name in names if name not in TERMINAL_WORDS)
    return _listing(words)


def describe_syntax_error(token: Token | None, char: str,
                          expected: Iterable[str] | None) -> tuple[str, str]:
    """(message, expected) for an unexpected ``token``, or an unexpected character."""
    expected_text = describe_expected(expected or ())
    if token is None:
        return f"unexpected character {char!r}", expected_text
    if token.type in ("_NL", "$END"):
        return f"unexpected {TERMINAL_WORDS[token.type]}", expected_text
    kind = FOUND_WORDS.get(token.type)
    found = f"{kind} '{token.value}'" if kind else f"'{token.value}'"
    message = f"unexpected {found}"
    if expected and "_COMMA" in set(expected) and token.type in OPERAND_STARTS:
        message += " (is a ',' missing between operands?)"
    return message, expected_text
