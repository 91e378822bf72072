"""The smart-playlist rule editor: rows of field / operator / value, matched all or any, groups of rows
one level down, a sort and a limit. The rules write the query text (docs/playlists.md); the raw text
field below can be edited by hand, and is what is saved. Mistakes from ``smart.check`` are shown with
their column, checked in the query pool as the text changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

#: the fields offered in a row, with their operators (``:`` reads "is" / "contains")
FIELD_OPS: dict[str, tuple[str, ...]] = {
    "artist": (":", "=", "!="), "title": (":", "=", "!="), "album": (":", "=", "!="),
    "albumartist": (":", "=", "!="), "filegenre": (":", "=", "!="), "path": (":", "=", "!="),
    "genre": (":", ">", ">=", "<", "<="), "tag": (":", ">", ">=", "<", "<="), "mood": (":", ">", ">=", "<", "<="),
    "stars": (">=", ":", "<=", ">", "<"), "year": (":", ">=", "<=", ">", "<"), "length": (">", "<", ":"),
    "added": ("<", ">", ":"), "played": ("<", ">", ":"), "plays": (">=", "<", ":"), "skips": (">=", "<", ":"),
    "format": (":", "!="), "loudness": ("<", ">"), "status": (":",),
}
OP_WORDS = {":": "is", "=": "equals", "!=": "is not", ">": "above", ">=": "at least", "<": "below", "<=": "at most"}
SORT_KEYS = ("", "title", "artist", "album", "year", "length", "added", "played", "plays", "skips", "stars",
             "format", "random")


@dataclass
class Rule:
    field: str
    op: str
    value: str


@dataclass
class Group:
    match: str = "all"  # all | any
    rules: list = field(default_factory=list)  # Rule, or Group one level down


def _value(text: str) -> str:
    text = text.strip()
    if not text:
        return '""'
    if any(ch.isspace() for ch in text) or any(ch in text for ch in '():'):
        if ".." in text or text[0] in "<>":  # a range or number stays as written
            return text
        return '"' + text.replace('"', "") + '"'
    return text


def build_query(group: Group, sort: str = "", descending: bool = False, limit: str = "") -> str:
    """The query text for ``group`` (its rules ANDed for *all*, ORed for *any*), sort and limit."""

    def part(g: Group, top: bool) -> str:
        items = []
        for r in g.rules:
            if isinstance(r, Group):
                inner = part(r, False)
                if inner:
                    items.append(inner)
            elif r.value.strip() or r.field == "status":
                items.append(f"{r.field}{r.op}{_value(r.value)}")
        if not items:
            return ""
        text = (" OR " if g.match == "any" else " ").join(items)
        if not top and len(items) > 1:
            text = f"({text})"
        return text

    words = [part(group, True)]
    if sort:
        words.append(f"sort:{'-' if descending else ''}{sort}")
    if limit.strip():
        words.append(f"limit:{limit.strip()}")
    text = " ".join(w for w in words if w)
    if group.match == "any" and (sort or limit.strip()) and " OR " in words[0]:
        text = f"({words[0]}) " + " ".join(words[1:])
    return text


class RuleRow(QWidget):
    """One condition: field, operator, value, and a remove button."""

    def __init__(self, changed, remove, rule: Rule | None = None, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.field = QComboBox()
        self.field.addItems(list(FIELD_OPS))
        self.op = QComboBox()
        self.value = QLineEdit()
        self.value.setPlaceholderText("value")
        self.remove = QPushButton("−")
        self.remove.setFixedWidth(28)
        self.remove.setToolTip("Remove this rule")
        for w in (self.field, self.op):
            lay.addWidget(w)
        lay.addWidget(self.value, 1)
        lay.addWidget(self.remove)
        self.field.currentTextChanged.connect(self._fill_ops)
        self._fill_ops(self.field.currentText())
        if rule is not None:
            self.field.setCurrentText(rule.field)
            self._fill_ops(rule.field)
            self.op.setCurrentIndex(max(0, self.op.findData(rule.op)))
            self.value.setText(rule.value)
        self.field.currentTextChanged.connect(lambda _t: changed())
        self.op.currentIndexChanged.connect(lambda _i: changed())
        self.value.textChanged.connect(lambda _t: changed())
        self.remove.clicked.connect(lambda: remove(self))

    def _fill_ops(self, name: str) -> None:
        self.op.blockSignals(True)
        self.op.clear()
        for op in FIELD_OPS.get(name, (":",)):
            self.op.addItem(OP_WORDS[op], op)
        self.op.blockSignals(False)

    def rule(self) -> Rule:
        return Rule(self.field.currentText(), self.op.currentData() or ":", self.value.text())


class RuleGroup(QFrame):
    """Rules matched all or any; the top group can hold groups (one level of nesting)."""

    def __init__(self, changed, remove=None, nested: bool = False, parent=None):
        super().__init__(parent)
        self.changed = changed
        self.nested = nested
        if nested:
            self.setFrameShape(QFrame.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8 if nested else 0, 4, 0, 4)
        head = QHBoxLayout()
        head.addWidget(QLabel("Songs matching" if not nested else "Any group matching"))
        self.match = QComboBox()
        self.match.addItem("all of", "all")
        self.match.addItem("any of", "any")
        self.match.currentIndexChanged.connect(lambda _i: changed())
        head.addWidget(self.match)
        head.addWidget(QLabel("these rules"))
        head.addStretch(1)
        self.add_rule_button = QPushButton("+ Rule")
        self.add_rule_button.clicked.connect(lambda: self.add_rule())
        head.addWidget(self.add_rule_button)
        if not nested:
            self.add_group_button = QPushButton("+ Group")
            self.add_group_button.clicked.connect(lambda: self.add_group())
            head.addWidget(self.add_group_button)
        if remove is not None:
            rm = QPushButton("−")
            rm.setFixedWidth(28)
            rm.setToolTip("Remove this group")
            rm.clicked.connect(lambda: remove(self))
            head.addWidget(rm)
        lay.addLayout(head)
        self.rows_layout = QVBoxLayout()
        lay.addLayout(self.rows_layout)
        self.items: list[QWidget] = []

    def add_rule(self, rule: Rule | None = None) -> RuleRow:
        row = RuleRow(self.changed, self._remove, rule)
        self.items.append(row)
        self.rows_layout.addWidget(row)
        self.changed()
        return row

    def add_group(self, match: str = "any") -> "RuleGroup":
        g = RuleGroup(self.changed, self._remove, nested=True)
        g.match.setCurrentIndex(1 if match == "any" else 0)
        self.items.append(g)
        self.rows_layout.addWidget(g)
        g.add_rule()
        return g

    def _remove(self, w: QWidget) -> None:
        if w in self.items:
            self.items.remove(w)
            w.setParent(None)
            w.deleteLater()
            self.changed()

    def group(self) -> Group:
        return Group(self.match.currentData(), [w.group() if isinstance(w, RuleGroup) else w.rule() for w in self.items])


class SmartEditor(QDialog):
    """Make or change a smart playlist. ``on_save(name, query)`` is called with the text when saved."""

    def __init__(self, ctx, on_save, *, name: str = "", query: str = "", parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.on_save = on_save
        self.setWindowTitle("Smart playlist")
        self.setMinimumWidth(620)
        self._gen = 0
        self.error: str | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("Name")
        form.addRow("Name", self.name)
        lay.addLayout(form)
        self.rules = RuleGroup(self._rules_changed)
        lay.addWidget(self.rules)
        srow = QHBoxLayout()
        srow.addWidget(QLabel("Sort by"))
        self.sort = QComboBox()
        for key in SORT_KEYS:
            self.sort.addItem(key or "library order", key)
        srow.addWidget(self.sort)
        self.descending = QCheckBox("descending")
        srow.addWidget(self.descending)
        srow.addSpacing(16)
        srow.addWidget(QLabel("Limit"))
        self.limit = QLineEdit()
        self.limit.setPlaceholderText("e.g. 50 or 60m")
        self.limit.setMaximumWidth(120)
        srow.addWidget(self.limit)
        srow.addStretch(1)
        for w in (self.sort, self.descending, self.limit):
            sig = getattr(w, "currentIndexChanged", None) or getattr(w, "toggled", None) or w.textChanged
            sig.connect(lambda *_: self._rules_changed())
        lay.addLayout(srow)
        lay.addWidget(QLabel("Query (the rules write it; you can also type it):"))
        self.text = QLineEdit(query)
        self.text.setObjectName("smartQuery")
        self.text.setPlaceholderText("e.g. genre:rock year:1990..1999 stars>=4 sort:-added limit:60m")
        lay.addWidget(self.text)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.PlainText)
        self.status.setStyleSheet("font-family: monospace;")
        lay.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self.check_now)
        self.text.textChanged.connect(lambda _t: self._schedule_check())
        self._building = False
        if not query:
            self.rules.add_rule()
        self.check_now()

    def _rules_changed(self) -> None:
        if self._building:
            return
        self.text.setText(self.query_from_rules())

    def query_from_rules(self) -> str:
        return build_query(self.rules.group(), self.sort.currentData() or "", self.descending.isChecked(),
                           self.limit.text())

    def _schedule_check(self) -> None:
        if self.ctx.pools.synchronous:
            self.check_now()
        else:
            self._check_timer.start()

    def check_now(self) -> None:
        """``smart.check`` in the query pool; the mistake is shown with its column."""
        from player.library.smart import check

        text = self.text.text()
        self._gen += 1
        gen = self._gen
        if not text.strip():
            self._checked(gen, text, "a smart playlist needs at least one rule")
            return

        def job():
            try:
                check(self.ctx.library, text)
            except Exception as exc:  # noqa: BLE001 - the mistake is the answer
                return getattr(exc, "column", None), str(exc)
            return None

        self.ctx.pools.query.submit(job, on_result=lambda res: self._checked(gen, text, res),
                                    on_error=lambda e: self._checked(gen, text, (None, e.message)))

    def _checked(self, gen: int, text: str, res) -> None:
        if gen != self._gen:
            return
        save = self.buttons.button(QDialogButtonBox.Save)
        if res is None:
            self.error = None
            self.status.setText("The query is fine.")
            save.setEnabled(True)
            return
        if isinstance(res, str):
            column, message = None, res
        else:
            column, message = res
        self.error = message
        if column:
            message += f"\n{text}\n{' ' * (column - 1)}^"
        self.status.setText(message)
        save.setEnabled(False)

    def save(self) -> None:
        if self.error is not None:
            return
        name = self.name.text().strip()
        if not name:
            self.status.setText("The playlist needs a name.")
            return
        self.on_save(name, self.text.text().strip())
        self.accept()
