"""The smart-playlist query language: tokenizer and parser (no database, no numpy).

``parse(text)`` turns a query such as ``tag:piano>0.3 AND NOT artist:"Ada Lumen" sort:-stars limit:60m``
into a :class:`Query` (a tree of :class:`And`, :class:`Or`, :class:`Not`, :class:`Cond` and
:class:`Words` nodes, the sort keys and the limit). Every mistake is a :class:`SmartQueryError` whose
message names the column (1-based) where it is: ``expected a number after 'stars>=' at column 8``.
The language is documented in docs/playlists.md; :mod:`player.library.smart` evaluates it.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field

from player.errors import LibraryError


class SmartQueryError(LibraryError):
    """A mistake in a smart-playlist query; ``column`` (1-based) is where it is."""

    def __init__(self, reason: str, column: int):
        super().__init__(f"{reason} at column {column}")
        self.reason = reason
        self.column = column


# -- the fields ----------------------------------------------------------------------------------
TEXT_FIELDS = {"title", "artist", "album", "albumartist", "path", "filegenre"}
NUMBER_FIELDS = {"year", "plays", "skips", "stars", "loudness", "id", "tracknumber"}
FIELDS = TEXT_FIELDS | NUMBER_FIELDS | {
    "tag", "genre", "mood", "like", "near", "length", "added", "played", "format", "status", "sort", "limit",
}
ALIASES = {
    "tagged": "filegenre", "rating": "stars", "duration": "length", "time": "length", "ext": "format",
    "similar": "like", "track": "tracknumber", "skipped": "skips",
}
SORT_KEYS = ("title", "artist", "album", "year", "length", "added", "played", "plays", "skips", "stars",
             "format", "path", "tracknumber", "similar", "random")
STATUSES = ("ok", "missing", "error", "any")
OPERATORS = ("<=", ">=", "!=", "<", ">", "=", ":")
_OPS_RE = re.compile(r"(<=|>=|!=|<|>|=)")
_FIELD_RE = re.compile(r"([A-Za-z_]+)(<=|>=|!=|<|>|=|:)")

UNITS_LENGTH = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
UNITS_AGE = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400,
             "y": 365 * 86400}


# -- the tree ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cond:
    """One condition. ``field`` is canonical (aliases resolved); ``op`` one of
    eq ne lt le gt ge between has (text contains) is (text equals); ``value`` depends on the field."""

    field: str
    op: str
    value: object
    column: int
    text: str  # as written, for messages
    name: str | None = None  # tag / genre / mood name, or the track reference of like/near
    name_column: int = 0


@dataclass(frozen=True)
class Words:
    text: str
    column: int


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object
    column: int = 0


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool
    column: int


@dataclass(frozen=True)
class Limit:
    count: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Query:
    text: str
    where: object | None  # a node, or None for "every song"
    sort: tuple = ()
    limit: Limit | None = None
    conds: tuple = field(default=(), compare=False)  # every Cond in the tree, in order

    def uses(self, *fields: str) -> bool:
        return any(c.field in fields for c in self.conds)


# -- tokens --------------------------------------------------------------------------------------
@dataclass
class _Seg:
    text: str
    quoted: bool
    column: int


@dataclass
class _Tok:
    kind: str  # '(' ')' 'AND' 'OR' 'NOT' 'run'
    column: int
    segs: list = field(default_factory=list)

    @property
    def raw(self) -> str:
        return "".join(f'"{s.text}"' if s.quoted else s.text for s in self.segs)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            out.append(_Tok(ch, i + 1))
            i += 1
            continue
        tok = _Tok("run", i + 1)
        while i < n and not text[i].isspace() and text[i] not in "()":
            if text[i] == '"':
                start = i
                i += 1
                buf = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                        i += 1
                    buf.append(text[i])
                    i += 1
                if i >= n:
                    raise SmartQueryError("this quote is never closed", start + 1)
                i += 1
                tok.segs.append(_Seg("".join(buf), True, start + 1))
                continue
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            tok.segs.append(_Seg(text[start:i], False, start + 1))
        if len(tok.segs) == 1 and not tok.segs[0].quoted and tok.segs[0].text in ("AND", "OR", "NOT"):
            tok.kind = tok.segs[0].text
        out.append(tok)
    return out


# -- small value parsers -------------------------------------------------------------------------
def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word.casefold(), [str(c).casefold() for c in choices], n=1, cutoff=0.6)
    if close:
        for c in choices:
            if str(c).casefold() == close[0]:
                return f" (did you mean {c}?)"
    return ""


def _number(text: str, what: str, column: int, *, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise SmartQueryError(f"expected {'a whole number' if integer else 'a number'} {what}", column) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SmartQueryError(f"expected a number {what}", column)
    return value


_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)(?:m|min))?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_length(text: str, what: str, column: int) -> float:
    """Seconds from ``90``, ``90s``, ``3m``, ``3m30s``, ``1h``, ``1h30m``, ``3:30``, ``1:02:03``."""
    t = text.strip().lower()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", t):
        secs = 0.0
        for part in t.split(":"):
            secs = secs * 60 + int(part)
        return secs
    m = _DURATION_RE.match(t)
    if not t or not m or not any(m.groups()):
        raise SmartQueryError(f"expected a length such as 90s, 3m, 3m30s or 3:30 {what}", column)
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def parse_age_or_date(text: str, what: str, column: int) -> tuple:
    """``('age', seconds)`` for ``30d``, ``12h``, ``2w``, ``6mo``, ``1y``; ``('date', start, end)`` for a day
    ``2024-05-01`` or a month ``2024-05`` (local time; ``end`` is the start of the next day or month)."""
    t = text.strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", t)
    if m:
        unit = m.group(2)
        if unit == "m":
            raise SmartQueryError(f"'m' is ambiguous in an age {what}: write 'min' (minutes) or 'mo' (months)",
                                  column)
        if unit not in UNITS_AGE:
            raise SmartQueryError(f"unknown unit '{unit}' {what} (use h, d, w, mo or y)", column)
        return "age", float(m.group(1)) * UNITS_AGE[unit]
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", t)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        day = int(m.group(3)) if m.group(3) else None
        try:
            time.strptime(f"{year}-{month}-{day or 1}", "%Y-%m-%d")
            start = time.mktime((year, month, day or 1, 0, 0, 0, 0, 0, -1))
            if day is None:
                end = time.mktime((year, month + 1, 1, 0, 0, 0, 0, 0, -1))
            else:
                end = time.mktime((year, month, day + 1, 0, 0, 0, 0, 0, -1))
        except (ValueError, OverflowError):
            raise SmartQueryError(f"'{text}' is not a date {what}", column) from None
        return "date", float(start), float(end)
    raise SmartQueryError(f"expected an age such as 30d, 12h, 2w, 6mo or 1y, or a date such as 2024-05-01 {what}",
                          column)


# -- the parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.conds: list[Cond] = []
        self.sort: list[SortKey] = []
        self.limit: Limit | None = None

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def end_column(self) -> int:
        return len(self.text) + 1

    def parse(self) -> Query:
        self._take_modifiers()
        where = None
        if self.toks:
            where = self.parse_or()
            tok = self.peek()
            if tok is not None:
                if tok.kind == ")":
                    raise SmartQueryError("this ')' closes nothing", tok.column)
                raise SmartQueryError(f"unexpected '{tok.raw or tok.kind}'", tok.column)
        return Query(self.text, where, tuple(self.sort), self.limit, tuple(self.conds))

    def _take_modifiers(self) -> None:
        """``sort:`` and ``limit:`` apply to the whole query: take them out of the token stream."""
        depth, keep = 0, []
        for tok in self.toks:
            if tok.kind == "(":
                depth += 1
            elif tok.kind == ")":
                depth -= 1
            elif tok.kind == "run":
                head = _FIELD_RE.match(tok.segs[0].text) if not tok.segs[0].quoted else None
                if head and head.group(1).lower() in ("sort", "limit"):
                    if depth > 0:
                        raise SmartQueryError(f"'{head.group(1)}:' applies to the whole query: put it outside "
                                              "the parentheses", tok.column)
                    if head.group(2) != ":":
                        raise SmartQueryError(f"write '{head.group(1).lower()}:' followed by its value",
                                              tok.column)
                    self._modifier(head.group(1).lower(), tok, head.end())
                    continue
            keep.append(tok)
        self.toks = keep

    def _modifier(self, name: str, tok: _Tok, cut: int) -> None:
        value, column = self._value_text(tok, cut)
        if name == "sort":
            if not value:
                raise SmartQueryError(f"expected a sort key after 'sort:' (one of {', '.join(SORT_KEYS)})", column)
            for part in value.split(","):
                desc = part.startswith("-")
                key = part.lstrip("-+").lower()
                key = {"rating": "stars", "duration": "length", "track": "tracknumber"}.get(key, key)
                if key not in SORT_KEYS:
                    raise SmartQueryError(f"unknown sort key '{part}'{_suggest(key, SORT_KEYS)} "
                                          f"(one of {', '.join(SORT_KEYS)})", column)
                self.sort.append(SortKey(key, desc, column))
                column += len(part) + 1
            return
        if self.limit is not None:
            raise SmartQueryError("there is already a 'limit:' in this query", tok.column)
        if not value:
            raise SmartQueryError("expected a number of songs (limit:50) or a length (limit:60m) after 'limit:'",
                                  column)
        if value.isdigit():
            count = int(value)
            if count <= 0:
                raise SmartQueryError("a limit must be at least 1 song", column)
            self.limit = Limit(count=count)
        else:
            seconds = parse_length(value, "after 'limit:' (songs or a length: limit:50, limit:60m)", column)
            if seconds <= 0:
                raise SmartQueryError("a length limit must be more than 0", column)
            self.limit = Limit(seconds=seconds)

    @staticmethod
    def _value_text(tok: _Tok, cut: int) -> tuple[str, int]:
        first = tok.segs[0]
        rest = first.text[cut:]
        text = rest + "".join(s.text for s in tok.segs[1:])
        return text, first.column + cut

    # grammar: or := and (OR and)* ; and := unary (AND? unary)* ; unary := NOT unary | atom
    def parse_or(self):
        items = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            if self.peek() is None or self.peek().kind in (")", "OR", "AND"):
                raise SmartQueryError("expected a condition after OR", self._col_after(tok))
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self):
        items = [self.parse_unary()]
        while (tok := self.peek()) is not None and tok.kind not in (")", "OR"):
            if tok.kind == "AND":
                self.i += 1
                if self.peek() is None or self.peek().kind in (")", "OR", "AND"):
                    raise SmartQueryError("expected a condition after AND", self._col_after(tok))
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _col_after(self, tok: _Tok) -> int:
        nxt = self.peek()
        return nxt.column if nxt is not None else self.end_column()

    def parse_unary(self):
        tok = self.peek()
        if tok is None:
            raise SmartQueryError("expected a condition", self.end_column())
        if tok.kind == "NOT":
            self.i += 1
            if self.peek() is None or self.peek().kind in (")", "OR", "AND"):
                raise SmartQueryError("expected a condition after NOT", self._col_after(tok))
            return Not(self.parse_unary(), tok.column)
        if tok.kind == "(":
            self.i += 1
            if self.peek() is not None and self.peek().kind == ")":
                raise SmartQueryError("empty parentheses", tok.column)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise SmartQueryError("this '(' is never closed", tok.column)
            self.i += 1
            return node
        if tok.kind == ")":
            raise SmartQueryError("this ')' closes nothing", tok.column)
        if tok.kind in ("AND", "OR"):
            raise SmartQueryError(f"expected a condition before {tok.kind}", tok.column)
        self.i += 1
        return self.atom(tok)

    def atom(self, tok: _Tok):
        first = tok.segs[0]
        head = None if first.quoted else _FIELD_RE.match(first.text)
        if head is None:
            if not first.quoted and _OPS_RE.search(first.text) and re.match(r"[A-Za-z_]+[<>=!]", first.text):
                name = re.match(r"[A-Za-z_]+", first.text).group()
                raise SmartQueryError(f"unknown field '{name}'{_suggest(name, sorted(FIELDS))}", tok.column)
            return Words("".join(s.text for s in tok.segs), tok.column)
        name = head.group(1).lower()
        fname = ALIASES.get(name, name)
        if fname not in FIELDS:
            raise SmartQueryError(
                f"unknown field '{head.group(1)}'{_suggest(name, sorted(FIELDS - {'sort', 'limit'}))}",
                tok.column)
        op = head.group(2)
        value, column = self._value_text(tok, head.end())
        quoted = [s for s in tok.segs if s.quoted]
        if op == ":" and not quoted:
            m = _OPS_RE.match(value)  # year:>1990 is year>1990
            if m and fname not in ("tag", "genre", "mood", "like", "near"):
                op, value, column = m.group(1), value[m.end():], column + m.end()
        cond = _condition(fname, op, value, column, tok, quoted)
        self.conds.append(cond)
        return cond


def _after(tok: _Tok, op_or_text: str) -> str:
    return f"after '{op_or_text}'"


def _condition(fname: str, op: str, value: str, column: int, tok: _Tok, quoted: list) -> Cond:
    raw = tok.raw
    head = raw[: raw.find(op) + len(op)] if op in raw else raw
    what = _after(tok, head)
    if fname in ("tag", "genre", "mood", "like", "near"):
        return _named(fname, op, tok, head, quoted)
    if fname in TEXT_FIELDS:
        if not value:
            raise SmartQueryError(f"expected text {what}", column)
        ops = {":": "has", "=": "is", "!=": "isnt"}
        if op not in ops:
            raise SmartQueryError(f"'{fname}' takes ':' (contains), '=' (is) or '!=' (is not), not '{op}'", column - len(op))
        return Cond(fname, ops[op], value, tok.column, raw)
    if fname == "format":
        if op not in (":", "=", "!="):
            raise SmartQueryError(f"'format' takes ':' or '!=', not '{op}'", column - len(op))
        formats = [v.strip().lower().lstrip(".") for v in value.split(",") if v.strip()]
        if not formats:
            raise SmartQueryError(f"expected a format such as flac or mp3 {what}", column)
        return Cond("format", "ne" if op == "!=" else "eq", tuple(formats), tok.column, raw)
    if fname == "status":
        v = value.strip().lower()
        if v not in STATUSES or op not in (":", "="):
            raise SmartQueryError(f"expected one of {', '.join(STATUSES)} after 'status:'", column)
        return Cond("status", "eq", v, tok.column, raw)
    if fname == "length":
        return _compare(fname, op, value, column, tok, lambda t, c: parse_length(t, what, c))
    if fname in ("added", "played"):
        if fname == "played" and value.strip().lower() == "never":
            if op not in (":", "="):
                raise SmartQueryError("write 'played:never'", column)
            return Cond("played", "never", None, tok.column, raw)
        return _compare(fname, op, value, column, tok, lambda t, c: parse_age_or_date(t, what, c))
    if fname == "stars" and value.strip().lower() in ("none", "unrated"):
        return Cond("stars", "eq", 0, tok.column, raw)
    integer = fname in ("year", "plays", "skips", "stars", "id", "tracknumber")

    def num(t, c):
        v = _number(t, what, c, integer=integer)
        if fname == "stars" and not 0 <= v <= 5:
            raise SmartQueryError(f"stars are from 0 (unrated) to 5, not {t}", c)
        return v

    return _compare(fname, op, value, column, tok, num)


def _compare(fname: str, op: str, value: str, column: int, tok: _Tok, conv) -> Cond:
    raw = tok.raw
    value = value.strip()
    if op == ":" and ".." in value:
        lo_text, hi_text = value.split("..", 1)
        lo = conv(lo_text, column) if lo_text else None
        hi = conv(hi_text, column + len(lo_text) + 2) if hi_text else None
        if lo is None and hi is None:
            raise SmartQueryError(f"a range needs a start or an end, e.g. {fname}:1990..1999", column)
        return Cond(fname, "between", (lo, hi), tok.column, raw)
    if not value:
        head = raw[: raw.find(op) + len(op)] if op in raw else raw
        kind = {"length": "a length", "added": "an age or a date", "played": "an age or a date"}.get(fname, "a number")
        raise SmartQueryError(f"expected {kind} after '{head}'", column)
    ops = {":": "eq", "=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    return Cond(fname, ops[op], conv(value, column), tok.column, raw)


def _named(fname: str, op: str, tok: _Tok, head: str, quoted: list) -> Cond:
    """``tag:NAME[>P]``, ``genre:NAME[>P]``, ``mood:WORD[>P]``, ``like:TRACK>S``, ``near:TRACK[:N]``."""
    raw = tok.raw
    if op != ":":
        raise SmartQueryError(f"write '{fname}:' followed by a name, e.g. {_EXAMPLES[fname]}", tok.column)
    # the text after "field:", segment by segment: a quoted name, or an unquoted one up to an operator
    segs = list(tok.segs)
    first = segs[0]
    cut = first.text.find(":") + 1
    rest = [_Seg(first.text[cut:], False, first.column + cut)] + segs[1:]
    rest = [s for s in rest if s.text or s.quoted]
    if not rest:
        raise SmartQueryError(f"expected a name after '{head}', e.g. {_EXAMPLES[fname]}", first.column + cut)
    name_seg = rest[0]
    tail_segs = rest[1:]
    if name_seg.quoted:
        name, name_col = name_seg.text, name_seg.column
        tail = "".join(s.text for s in tail_segs)
        tail_col = tail_segs[0].column if tail_segs else name_seg.column + len(name_seg.text) + 2
    else:
        text = name_seg.text
        if fname == "near":
            m = re.match(r"([^:]*)", text)
        else:
            m = re.match(r"([^<>=!]*)", text)
        name, name_col = m.group(1), name_seg.column
        tail = text[m.end():] + "".join(s.text for s in tail_segs)
        tail_col = name_seg.column + m.end()
    if not name.strip():
        raise SmartQueryError(f"expected a name after '{head}', e.g. {_EXAMPLES[fname]}", name_col)
    if fname == "near":
        count = 20
        if tail:
            if not tail.startswith(":"):
                raise SmartQueryError("write near:TRACK or near:TRACK:COUNT", tail_col)
            count = int(_number(tail[1:], "after the track in 'near:' (how many songs)", tail_col + 1, integer=True))
            if count < 1:
                raise SmartQueryError("near: needs at least 1 song", tail_col + 1)
        return Cond("near", "near", count, tok.column, raw, name.strip(), name_col)
    if not tail:
        if fname == "like":
            raise SmartQueryError("write like:TRACK>SIMILARITY, e.g. like:42>0.8", tail_col)
        return Cond(fname, "label", None, tok.column, raw, name.strip(), name_col)
    m = _OPS_RE.match(tail)
    if not m or m.group(1) in ("=", "!="):
        raise SmartQueryError(f"expected '>', '>=', '<' or '<=' and a number after the {fname} name", tail_col)
    sym = m.group(1)
    what = f"after '{head}{name if not name_seg.quoted else chr(34) + name + chr(34)}{sym}'"
    number = _number(tail[m.end():], what, tail_col + m.end())
    ops = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    return Cond(fname, ops[sym], number, tok.column, raw, name.strip(), name_col)


_EXAMPLES = {"tag": "tag:piano>0.3", "genre": "genre:rock", "mood": "mood:happy", "like": "like:42>0.8",
             "near": "near:42:20"}


def parse(text: str) -> Query:
    """The query as a tree; :class:`SmartQueryError` (with the column) for a mistake."""
    if text is None:
        text = ""
    if len(text) > 10_000:
        raise SmartQueryError("a query is at most 10,000 characters", 10_001)
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        raise SmartQueryError("a query cannot hold control characters", bad.start() + 1)
    return _Parser(text).parse()


__all__ = ["parse", "Query", "Cond", "Words", "And", "Or", "Not", "SortKey", "Limit", "SmartQueryError",
           "SORT_KEYS", "FIELDS", "parse_length", "parse_age_or_date"]
