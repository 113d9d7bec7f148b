"""Label and field selectors, parsed and matched the way kube-apiserver does (apimachinery labels/fields).

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`,
comma-separated. Field selectors: `f=v`, `f==v`, `f!=v` over the fields each resource supports
(unsupported ones answer 400 "field label not supported: …").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.status import bad_request, go_quote

JSON = dict[str, Any]

_SPECIAL = set("=!(),><")
_TOKENS = {
    ")": ")",
    ",": ",",
    "!": "!",
    "==": "==",
    "=": "=",
    ">": ">",
    "in": "in",
    "<": "<",
    "!=": "!=",
    "notin": "notin",
    "(": "(",
}
_BINARY = "in, notin, =, ==, !=, gt, lt"
ID = "id"
END = "end"
ERROR = "error"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # in notin = == != exists !exists gt lt
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("in", "=", "=="):
            return present and value in self.values
        if self.op in ("notin", "!="):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if not present or value is None:
            return False
        try:
            have, want = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == "gt" else have < want


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _lex(text: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            items.append((END, ""))
            return items
        if text[i] in _SPECIAL:
            buffer, last = "", None
            while i < len(text) and text[i] in _SPECIAL:
                candidate = buffer + text[i]
                if candidate in _TOKENS:
                    buffer, last = candidate, _TOKENS[candidate]
                    i += 1
                elif last is not None:
                    break
                else:
                    buffer = candidate
                    i += 1
            if last is None:
                items.append((ERROR, f"error expected: keyword found '{buffer}'"))
            else:
                items.append((last, buffer))
        else:
            start = i
            while i < len(text) and text[i] not in _SPECIAL and text[i] not in " \t\r\n":
                i += 1
            word = text[start:i]
            items.append((_TOKENS.get(word, ID), word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def _tok(self, values: bool, advance: bool) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        if advance:
            self.pos += 1
        if values and tok in ("in", "notin"):
            tok = ID
        return tok, lit

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        return self._tok(values, False)

    def consume(self, values: bool = True) -> tuple[str, str]:
        return self._tok(values, True)

    def parse(self) -> list[Requirement]:
        out: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok in (ID, "!"):
                try:
                    out.append(self.requirement())
                except ValueError as bad:
                    raise ValueError(f"unable to parse requirement: {bad}") from None
                tok, lit = self.consume()
                if tok == END:
                    return out
                if tok == ",":
                    tok2, lit2 = self.lookahead()
                    if tok2 not in (ID, "!"):
                        raise ValueError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise ValueError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == END:
                return out
            else:
                raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        op = ""
        tok, key = self.consume()
        if tok == "!":
            op = "!exists"
            tok, key = self.consume()
        if tok != ID:
            raise ValueError(f"found '{key}', expected: identifier")
        errs = names.qualified_name(key)
        if errs:
            raise ValueError(f"key: Invalid value: {go_quote(key)}: {'; '.join(errs)}")
        if self.lookahead()[0] in (END, ","):
            return Requirement(key, op or "exists", ())
        if op == "!exists":
            return Requirement(key, op, ())
        tok, lit = self.consume(values=False)
        ops = {"in": "in", "=": "=", "==": "==", ">": "gt", "<": "lt", "notin": "notin", "!=": "!="}
        if tok not in ops:
            raise ValueError(f"found '{lit}', expected: {_BINARY}")
        op = ops[tok]
        values = self.set_values() if op in ("in", "notin") else self.exact_value()
        if op in ("gt", "lt"):
            try:
                int(values[0])
            except ValueError:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                raise ValueError(f"values[0]: Invalid value: {go_quote(values[0])}: {detail}") from None
        for i, value in enumerate(values):
            errs = names.label_value(value)
            if errs:
                raise ValueError(f"values[{i}][{key}]: Invalid value: {go_quote(value)}: {'; '.join(errs)}")
        return Requirement(key, op, tuple(values))

    def set_values(self) -> list[str]:
        tok, lit = self.consume()
        if tok != "(":
            raise ValueError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok == ")":
            self.consume()
            return [""]
        if tok not in (ID, ","):
            raise ValueError(f"found '{lit}', expected: ',', ')' or identifier")
        found: list[str] = []
        while True:
            tok, lit = self.consume()
            if tok == ID:
                found.append(lit)
                tok2, lit2 = self.lookahead()
                if tok2 == ",":
                    continue
                if tok2 == ")":
                    break
                raise ValueError(f"found '{lit2}', expected: ',' or ')'")
            if tok == ",":
                if not found:
                    found.append("")
                tok2, _ = self.lookahead()
                if tok2 in (")", ","):
                    found.append("")
                if tok2 == ")":
                    break
                continue
            raise ValueError(f"found '{lit}', expected: ',', or identifier")
        tok, _ = self.consume()
        if tok != ")":
            raise ValueError(f"found '{lit}', expected: ')'")
        return sorted(set(found))

    def exact_value(self) -> list[str]:
        tok, _ = self.lookahead()
        if tok in (END, ","):
            return [""]
        tok, lit = self.consume()
        if tok == ID:
            return [lit]
        raise ValueError(f"found '{lit}', expected: identifier")


def parse_labels(text: str | None) -> LabelSelector:
    """A labelSelector query parameter; a bad one is the 400 a real server answers."""
    if not text:
        return LabelSelector()
    try:
        reqs = _Parser(text).parse()
    except ValueError as bad:
        raise bad_request(str(bad)) from None
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


def label_selector_from_object(selector: JSON | None) -> LabelSelector:
    """A metav1.LabelSelector (matchLabels + matchExpressions), as Deployments and PDBs carry."""
    if not selector:
        return LabelSelector()
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append(
            Requirement(expr.get("key", ""), ops.get(expr.get("operator", ""), "in"), tuple(expr.get("values") or ()))
        )
    return LabelSelector(tuple(reqs))


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # = or !=
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        for r in self.requirements:
            have = fields.get(r.field, "")
            if (r.op == "=") != (have == r.value):
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current += "\\" + ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current + ("\\" if escaped else ""))
    return parts


def _unescape(text: str) -> str:
    out, escaped = "", False
    for ch in text:
        if escaped:
            if ch not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out += ch
    return out


def _split_term(part: str) -> tuple[str, str, str] | None:
    """The first operator from the left wins, as fields.splitTerm scans."""
    for i in range(len(part)):
        for token, op in (("!=", "!="), ("==", "="), ("=", "=")):
            if part.startswith(token, i):
                return part[:i], op, part[i + len(token) :]
    return None


def parse_fields(text: str | None, supported: Callable[[str], bool]) -> FieldSelector:
    """A fieldSelector query parameter, checked against the fields this resource can be selected by."""
    if not text:
        return FieldSelector()
    reqs: list[FieldRequirement] = []
    for part in _split_unescaped(text, ","):
        if not part:
            continue
        term = _split_term(part)
        if term is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        key, op, value = term
        try:
            reqs.append(FieldRequirement(key, op, _unescape(value)))
        except ValueError as bad:
            raise bad_request(str(bad)) from None
    for r in reqs:
        if not supported(r.field):
            raise bad_request(f"field label not supported: {r.field}")
    return FieldSelector(tuple(reqs))
