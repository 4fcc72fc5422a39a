"""Result objects that the plainest calls (`show CODE --json`) print without
the typed model: creating the model's frozen dataclasses costs more than such a
call may spend over the interpreter's start-up (see bench/). Each result holds
its JSON document, made at index time by the model (engine/build.py), and
rebuilds the typed record only when a table or flat renderer asks for it.
"""

from __future__ import annotations

# typing costs a share of `show --json`'s budget; mypy takes any name TYPE_CHECKING as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from cptcli.model import CodeRecord


class ShowResult:
    """One record as `show` prints it: the record, who names it, which files
    contributed to it, and whether each related code is in the knowledge base."""

    __slots__ = ("doc", "_record")

    def __init__(self, doc: dict):
        self.doc = doc
        self._record: CodeRecord | None = None

    @property
    def code(self) -> str:
        return self.doc["code"]

    @property
    def named_by(self) -> tuple[str, ...]:
        return tuple(self.doc["named_by"])

    @property
    def contributors(self) -> tuple[str, ...]:
        return tuple(self.doc["contributors"])

    @property
    def related_status(self) -> dict:
        return {row["code"]: row.get("in_knowledge_base") for row in self.doc["related"]}

    @property
    def record(self) -> CodeRecord:
        """The typed record (cptcli.model.CodeRecord)."""
        if self._record is None:
            from cptcli.model import CodeRecord

            self._record = CodeRecord.from_dict(self.doc, origin=self.doc["origin"])
        return self._record

    def to_dict(self) -> dict:
        return self.doc


class ShowResults(list):
    """`show`'s answer: the records found, in the order asked; `single` when
    one code was asked for (JSON is then one object, not an array)."""

    __slots__ = ("single", "_sources")

    def __init__(self, results, single: bool, sources=dict):
        super().__init__(results)
        self.single = single
        self._sources = sources

    @property
    def sources(self) -> dict:
        """The sources registry (file -> model.Source), read only by renderers
        that list sources: JSON never needs the model."""
        if callable(self._sources):
            self._sources = self._sources()
        return self._sources

    def to_dict(self):
        docs = [r.to_dict() for r in self]
        return docs[0] if self.single and len(docs) == 1 else docs


class Imports(list):
    """`import`'s answer: one cptcli.imports.ImportReport a kind imported (or found unchanged)."""

    __slots__ = ()

    def to_dict(self) -> list:
        return [r.to_dict() for r in self]


class SourceRow:
    """One line of `sources`: the bundled knowledge base, a --data file, or an imported set."""

    __slots__ = ("kind", "release", "files", "records", "imported_at", "sha256", "modifiers")

    def __init__(
        self, kind: str, release: str, files: tuple, records: int, imported_at, sha256: dict, modifiers: int = 0
    ):
        self.kind, self.release, self.files, self.records = kind, release, files, records
        self.imported_at, self.sha256, self.modifiers = imported_at, sha256, modifiers

    def to_dict(self) -> dict:
        return {
            "schema_version": 1,
            "kind": self.kind,
            "release": self.release,
            "files": list(self.files),
            "records": self.records,
            "modifiers": self.modifiers,
            "imported_at": self.imported_at,
            "sha256": self.sha256,
        }


class Sources(list):
    """`sources`: every set of codes the answers come from."""

    __slots__ = ()

    def to_dict(self) -> list:
        return [r.to_dict() for r in self]


class ClaimsReport:
    """`check --claims`: every finding of every line, each row naming its claim, line and row so that it joins back
    to the input, the rows that could not be read, and the counts. verdict: "fail" when a line fails, else
    "unverified" when a line is not verified, else "pass"."""

    __slots__ = ("file", "rows", "malformed", "claims", "lines", "passing", "failing", "unverified", "last")
    COLUMNS = ("claim", "line", "row", "code", "verdict", "severity", "kind", "subject", "message", "authority")

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows: list[tuple] = []
        self.malformed: list = []
        self.claims = self.lines = self.passing = self.failing = self.unverified = 0
        # A report written in pieces (ClaimsReport.piece): only the last carries the malformed rows and the summary.
        self.last = True

    def piece(self) -> ClaimsReport:
        """The rows so far as a piece of the report to write now (not its last); this report keeps its counts and
        starts its rows anew."""
        part = ClaimsReport(self.file)
        part.rows, part.last = self.rows, False
        part.claims, part.lines, part.passing, part.failing, part.unverified = (
            self.claims,
            self.lines,
            self.passing,
            self.failing,
            self.unverified,
        )
        self.rows = []
        return part

    def add(self, row, report) -> None:
        """One line's CheckReport (row: cptcli.claims.Row)."""
        verdict = report.verdict
        self.lines += 1
        self.passing += verdict == "pass"
        self.failing += verdict == "fail"
        self.unverified += verdict == "unverified"
        for f in report.issues:
            self.rows.append(
                (row.claim, row.line, row.row, row.code, verdict, f.severity, f.kind, f.subject, f.message, f.authority)
            )

    def add_unknown(self, row, message: str) -> None:
        self.lines += 1
        self.failing += 1
        self.rows.append(
            (row.claim, row.line, row.row, row.code, "fail", "error", "code-unknown", "code", message, None)
        )

    @property
    def verdict(self) -> str:
        return "fail" if self.failing else "unverified" if self.unverified else "pass"

    @property
    def summary(self) -> dict:
        return {
            "claims": self.claims,
            "lines": self.lines,
            "passing": self.passing,
            "failing": self.failing,
            "not_verified": self.unverified,
            "malformed": len(self.malformed),
        }

    def findings(self) -> list[dict]:
        return [dict(zip(self.COLUMNS, r, strict=True)) for r in self.rows]

    def to_dict(self) -> dict:
        return {
            "schema_version": 1,
            "file": self.file,
            "verdict": self.verdict,
            "summary": self.summary,
            "findings": self.findings(),
            "malformed": [m._asdict() for m in self.malformed],
        }

    def to_lines(self) -> list[dict]:
        """JSON Lines: one finding a line, then one line for each malformed row, then the summary."""
        if not self.last:
            return self.findings()
        return [
            *self.findings(),
            *({"malformed": m._asdict()} for m in self.malformed),
            {"summary": self.summary, "verdict": self.verdict},
        ]
