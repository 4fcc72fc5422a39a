"""What an import produces: codes, modifiers and taxonomy rows, each fact tied to its file and release.

The engine reads these back from the store (``doc`` columns hold ``to_dict()`` JSON), so ``from_dict`` must accept
every dict ``to_dict`` ever wrote under ``schema_version`` 1.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# HCPCS Level II: a letter A-V and four digits; CPT: five digits, or four digits and F (Category II),
# T (Category III) or U (PLA).
HCPCS_CODE = re.compile(r"[A-V]\d{4}")
CPT_CODE = re.compile(r"\d{4}[0-9FTU]")

# Search fields, one per descriptor kind; the engine's field registry keys on these names.
TEXT_FIELDS = {
    "long": "descriptor_long",
    "medium": "descriptor_medium",
    "short": "descriptor_short",
    "consumer": "descriptor_consumer",
    "clinician": "descriptor_clinician",
}


@dataclass(frozen=True, slots=True)
class Attribute:
    """One fact about a code: ``value`` is the raw code or text as filed, ``meaning`` its words where the
    publisher defines them (None where it does not, or the value is free text or a date)."""

    label: str
    value: str
    meaning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "meaning": self.meaning}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Attribute:
        return cls(d["label"], d["value"], d.get("meaning"))


@dataclass(frozen=True, slots=True)
class ImportedCode:
    code: str
    kind: str
    release: str
    file: str
    descriptors: tuple[tuple[str, str], ...] = ()
    attributes: tuple[Attribute, ...] = ()
    # Which file each descriptor kind came from, where a set merges several files (CPT).
    descriptor_files: tuple[tuple[str, str], ...] = field(default=())

    def texts(self) -> list[tuple[str, str]]:
        return [(TEXT_FIELDS.get(k, f"descriptor_{k}"), t) for k, t in self.descriptors]

    def descriptor(self, kind: str) -> str | None:
        return next((t for k, t in self.descriptors if k == kind), None)

    def attribute(self, label: str) -> Attribute | None:
        return next((a for a in self.attributes if a.label == label), None)

    def source(self, descriptor_kind: str | None = None) -> str:
        """``file, release`` for the whole record or for one descriptor kind."""
        f = dict(self.descriptor_files).get(descriptor_kind or "", self.file)
        return f"{f}, {self.release}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "code": self.code,
            "kind": self.kind,
            "release": self.release,
            "file": self.file,
            "descriptors": [{"kind": k, "text": t} for k, t in self.descriptors],
            "descriptor_files": dict(self.descriptor_files),
            "attributes": [a.to_dict() for a in self.attributes],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportedCode:
        return cls(
            code=d["code"],
            kind=d["kind"],
            release=d["release"],
            file=d["file"],
            descriptors=tuple((x["kind"], x["text"]) for x in d.get("descriptors", ())),
            attributes=tuple(Attribute.from_dict(a) for a in d.get("attributes", ())),
            descriptor_files=tuple(d.get("descriptor_files", {}).items()),
        )


@dataclass(frozen=True, slots=True)
class ImportedModifier:
    """A Level II modifier from an imported file; its authority is ``file`` and ``release``."""

    modifier: str
    kind: str
    release: str
    file: str
    descriptors: tuple[tuple[str, str], ...] = ()
    attributes: tuple[Attribute, ...] = ()

    @property
    def authority(self) -> str:
        return f"{self.file}, {self.release}"

    def texts(self) -> list[tuple[str, str]]:
        return [(TEXT_FIELDS.get(k, f"descriptor_{k}"), t) for k, t in self.descriptors]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "modifier": self.modifier,
            "kind": self.kind,
            "release": self.release,
            "file": self.file,
            "authority": self.authority,
            "descriptors": [{"kind": k, "text": t} for k, t in self.descriptors],
            "attributes": [a.to_dict() for a in self.attributes],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportedModifier:
        return cls(
            modifier=d["modifier"],
            kind=d["kind"],
            release=d["release"],
            file=d["file"],
            descriptors=tuple((x["kind"], x["text"]) for x in d.get("descriptors", ())),
            attributes=tuple(Attribute.from_dict(a) for a in d.get("attributes", ())),
        )


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    code: str
    grouping: str
    classification: str
    specialization: str
    definition: str
    notes: str
    display_name: str
    section: str
    release: str
    file: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "code": self.code,
            "grouping": self.grouping,
            "classification": self.classification,
            "specialization": self.specialization,
            "definition": self.definition,
            "notes": self.notes,
            "display_name": self.display_name,
            "section": self.section,
            "release": self.release,
            "file": self.file,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaxonomyEntry:
        return cls(**{k: d.get(k, "") for k in cls.__slots__})


@dataclass(frozen=True, slots=True)
class SkippedLine:
    file: str
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass(slots=True)
class Parsed:
    """What one kind's parser returns for one release (one or several files).

    ``slot``: which of a kind's side-by-side sets this release is ("" for kinds with one: HCPCS, CPT, NUCC;
    "practitioner" or "outpatient" for NCCI edits; "FY2026" for ICD-10-CM). ``covers``: the first and last dates
    of service (YYYY-MM-DD) the release's rules apply to, where the publisher says (a quarter, a fiscal year);
    a check on a date outside them is not verified by this release. ``rows``: table name -> rows (tuples in the
    table's column order) of the kind's own tables; an iterable, so a big release is written as it is read
    (its parser may record skipped lines while it is consumed)."""

    release: str
    codes: list[ImportedCode] = field(default_factory=list)
    modifiers: list[ImportedModifier] = field(default_factory=list)
    taxonomy: list[TaxonomyEntry] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)
    skipped_count: int = 0
    slot: str = ""
    covers: tuple[str, str] | None = None
    rows: dict[str, Iterable[tuple]] = field(default_factory=dict)

    def skip(self, file: str, line: int, reason: str, keep: int = 20) -> None:
        self.skipped_count += 1
        if len(self.skipped) < keep:
            self.skipped.append(SkippedLine(file, line, reason))


@dataclass(frozen=True, slots=True)
class Member:
    """One input file, read whole: a path given on the command line or a member of a zip."""

    name: str
    data: bytes
    sha256: str

    def text(self) -> str:
        """The file as text, decoded once by what its bytes are: UTF-8 (with or without a BOM) when they all are;
        else Windows-1252, which CMS's and the AMA's older files are written in (a 0x92 is a right quote, not a
        control character), with latin-1 for the five bytes 1252 leaves out. A file that is UTF-8 but for a stray
        byte (its other non-ASCII text in UTF-8 sequences) is refused at that byte's line: decoded as 1252, every
        accented descriptor in it would be mojibake ("cafÃ©"), with nothing to say so."""
        data = self.data
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            bad = e.start
        sequences = _UTF8_SEQUENCE.findall(data)
        stray = len(data) - len(data.translate(None, _HIGH)) - sum(map(len, sequences))
        if sequences and len(sequences) >= stray:
            from ..errors import DataError

            line = data.count(b"\n", 0, bad) + 1
            raise DataError(
                f"{self.name}: line {line}: byte 0x{data[bad]:02X} is not UTF-8, though the file's other accented "
                f"text is ({len(sequences):,} UTF-8 characters, {stray:,} stray bytes): a damaged or mixed file; "
                "save it as UTF-8 and import it again"
            )
        return data.decode("cp1252", "latin1_fallback")


# A UTF-8 sequence of two to four bytes (the well-formed ones, RFC 3629), and the bytes that are not ASCII.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH = bytes(range(0x80, 0x100))


def _latin1_fallback(e: UnicodeError) -> tuple[str, int]:
    """The bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as latin-1 reads them."""
    assert isinstance(e, UnicodeDecodeError)
    return e.object[e.start : e.end].decode("latin-1"), e.end


codecs.register_error("latin1_fallback", _latin1_fallback)


def lines(text: str) -> list[str]:
    """A text file's lines as its layout ends them: at a line feed, a carriage return before it dropped. Not
    ``str.splitlines``, which also ends a line at a form feed, FS, GS, RS, NEL or U+2028: inside a descriptor
    those would cut a record in two and make a phantom code of its second half."""
    out = text.split("\n")
    if out and out[-1] == "":
        out.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in out]
