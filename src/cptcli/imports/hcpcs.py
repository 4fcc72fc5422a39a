"""CMS HCPCS Level II Alpha-Numeric file: the fixed-width ANWEB text and the .xlsx of the same release.

Record layout (1-based, inclusive columns of a 320-byte record), as CMS's "HCPCS record layout" documents it
(the layout text shipped as HCPC<year>_recordlayout with each release, https://www.cms.gov/medicare/coding-billing/
healthcare-common-procedure-system/quarterly-update). Positions were cross-checked between independent readers of
the file: an R ``substr`` loader of HCPC2019_CONTR_ANWEB.txt (explicit start/stop columns), an R ``read.fwf``
loader (field widths with FILLER gaps: the 1-byte gap after BETOS and 27 bytes after the action code), and a PHP
loader (``pos``/``len`` per field); the .xlsx column names were checked against the BigQuery public data set
``cms_codes.hcpcs`` (rsyi/whale-bigquery-public-data) and an R reader of HCPC2024_APR_ANWEB_v5.xlsx
(andrewallenbruce), which also reproduces the layout's code definitions used for the words below.

    1-5 HCPC | 6-10 SEQNUM | 11 RECID | 12-91 LONG DESCRIPTION | 92-119 SHORT DESCRIPTION
    120-127 PRICE1-4 (2 each) | 128 MULT_PI | 129-146 CIM1-3 (6 each) | 147-170 MCM1-3 (8 each)
    171-180 STATUTE | 181-204 LABCERT1-8 (3 each) | 205-229 XREF1-5 (5 each) | 230 COV
    231-232 ASC_GRP | 233-240 ASC_DT | 241-243 OPPS | 244 OPPS_PI | 245-252 OPPS_DT | 253-256 PROCNOTE
    257-259 BETOS | 260 filler | 261-265 TOS1-5 | 266-268 ANEST_BU | 269-276 ADD_DT | 277-284 ACT_EFF_DT
    285-292 TERM_DT | 293 ACTION_CD | 294-320 filler

RECID: 3 = first record of a procedure (carries the detail fields), 4 = its continued long description;
7 = first record of a modifier, 8 = its continued description. Continuation records carry only positions 1-91.
A modifier stands right-justified in HCPC (positions 4-5), and the modifiers come first in the file.
A long description is split over records at word boundaries, so segments are joined with one space.

The text form is Windows-1252 (the 2020 file's disclaimer has a 0x92 right quote) with CRLF line ends and
non-breaking spaces (0xA0, read as a plain space), preceded by a disclaimer block: every line before the first
record is preamble.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Iterator

from ..errors import DataError
from ..limits import SHEET_COLUMNS, MiB
from ..model import ADDED_DATE, CROSS_REFERENCE, TERMINATION_DATE
from . import archive, kind
from .records import HCPCS_CODE, Attribute, ImportedCode, ImportedModifier, Member, Parsed

KIND = "hcpcs"
LABEL = "HCPCS"
A_LABEL = "an HCPCS"
READER = 3  # 2: modifiers right-justified in HCPC, as CMS writes them, are read; 3: SEQNUM no longer stored
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# the ANWEB text of a release is about 3 MB, its .xlsx about 2.5 MB.
MAX_BYTES = 32 * MiB
TABLES: tuple = ()  # codes and registry entries only
RECORD_LEN = 320

# (name, first column, width), in record order.
LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("HCPC", 1, 5),
    ("SEQNUM", 6, 5),
    ("RECID", 11, 1),
    ("LONG_DESCRIPTION", 12, 80),
    ("SHORT_DESCRIPTION", 92, 28),
    *((f"PRICE{i + 1}", 120 + 2 * i, 2) for i in range(4)),
    ("MULT_PI", 128, 1),
    *((f"CIM{i + 1}", 129 + 6 * i, 6) for i in range(3)),
    *((f"MCM{i + 1}", 147 + 8 * i, 8) for i in range(3)),
    ("STATUTE", 171, 10),
    *((f"LABCERT{i + 1}", 181 + 3 * i, 3) for i in range(8)),
    *((f"XREF{i + 1}", 205 + 5 * i, 5) for i in range(5)),
    ("COV", 230, 1),
    ("ASC_GRP", 231, 2),
    ("ASC_DT", 233, 8),
    ("OPPS", 241, 3),
    ("OPPS_PI", 244, 1),
    ("OPPS_DT", 245, 8),
    ("PROCNOTE", 253, 4),
    ("BETOS", 257, 3),
    *((f"TOS{i + 1}", 261 + i, 1) for i in range(5)),
    ("ANEST_BU", 266, 3),
    ("ADD_DT", 269, 8),
    ("ACT_EFF_DT", 277, 8),
    ("TERM_DT", 285, 8),
    ("ACTION_CD", 293, 1),
)
_SLICES = tuple((name, start - 1, start - 1 + width) for name, start, width in LAYOUT)
_WIDTH = {name: width for name, _, width in LAYOUT}
DATE_FIELDS = ("ASC_DT", "OPPS_DT", "ADD_DT", "ACT_EFF_DT", "TERM_DT")

# Words for coded fields, from CMS's record layout definitions.
PRICING = {
    "00": "Service not separately priced by Part B (e.g., services not covered, bundled, used by Part A only)",
    "11": "Physician fee schedule: price established using national RVUs",
    "12": "Physician fee schedule: price established using national anesthesia base units",
    "13": "Physician fee schedule: price established by carriers (e.g., not otherwise classified, individual "
    "determination, carrier discretion)",
    "21": "Clinical lab fee schedule: price subject to national limitation amount",
    "22": "Clinical lab fee schedule: price established by carriers (e.g., gap-fills, carrier established panels)",
    "31": "DMEPOS: frequently serviced DME (price subject to floors and ceilings)",
    "32": "DMEPOS: inexpensive and routinely purchased DME (price subject to floors and ceilings)",
    "33": "DMEPOS: oxygen and oxygen equipment (price subject to floors and ceilings)",
    "34": "DMEPOS: DME supplies (price subject to floors and ceilings)",
    "35": "DMEPOS: surgical dressings (price subject to floors and ceilings)",
    "36": "DMEPOS: capped rental DME (price subject to floors and ceilings)",
    "37": "DMEPOS: ostomy, tracheostomy and urological supplies (price subject to floors and ceilings)",
    "38": "DMEPOS: orthotics, prosthetics, prosthetic devices and vision services (price subject to floors and "
    "ceilings)",
    "39": "DMEPOS: parenteral and enteral nutrition",
    "40": "DMEPOS: lymphedema compression treatment items",
    "45": "DMEPOS: customized DME items",
    "46": "DMEPOS: carrier priced (e.g., not otherwise classified, individual determination, carrier discretion, "
    "gap-filled amounts)",
    "51": "Other: drugs",
    "52": "Other: reasonable charge",
    "53": "Other: statute",
    "54": "Other: vaccinations",
    "55": "Other: splints and casts",
    "56": "Other: IOLs inserted in a physician's office",
    "57": "Other: other carrier priced",
    "99": "Value not established",
}
MULT_PI = {
    "9": "Not applicable as HCPCS not priced separately by Part B (pricing indicator 00) or value not established "
    "(pricing indicator 99)",
    "A": "Not applicable as HCPCS priced under one methodology",
    "B": "Professional component priced using RVUs, while technical component and global service priced by "
    "Medicare Part B carriers",
    "C": "Physician interpretation of clinical lab service priced under the physician fee schedule using RVUs, "
    "while the lab service is paid under the clinical lab fee schedule",
    "D": "Service by a physician priced under the physician fee schedule using RVUs, service by a clinical "
    "psychologist under the clinical psychologist fee schedule (not applicable as of January 1, 1998)",
    "E": "Service by a physician priced under the physician fee schedule using RVUs, by a clinical psychologist "
    "and by a clinical social worker under their fee schedules (not applicable as of January 1, 1998)",
    "F": "Service by a physician priced under the physician fee schedule by carriers, by a clinical psychologist "
    "and by a clinical social worker under their fee schedules (not applicable as of January 1, 1998)",
    "G": "Clinical lab service priced under reasonable charge when submitted on a claim with blood products, "
    "under the clinical lab fee schedule when there are none",
}
LABCERT = {
    "010": "Histocompatibility testing",
    "100": "Microbiology",
    "110": "Bacteriology",
    "115": "Mycobacteriology",
    "120": "Mycology",
    "130": "Parasitology",
    "140": "Virology",
    "150": "Other microbiology",
    "200": "Diagnostic immunology",
    "210": "Syphilis serology",
    "220": "General immunology",
    "300": "Chemistry",
    "310": "Routine chemistry",
    "320": "Urinalysis",
    "330": "Endocrinology",
    "340": "Toxicology",
    "350": "Other chemistry",
    "400": "Hematology",
    "500": "Immunohematology",
    "510": "ABO group and Rh type",
    "520": "Antibody detection (transfusion)",
    "530": "Antibody detection (nontransfusion)",
    "540": "Antibody identification",
    "550": "Compatibility testing",
    "560": "Other immunohematology",
    "600": "Pathology",
    "610": "Histopathology",
    "620": "Oral pathology",
    "630": "Cytology",
    "800": "Radiobioassay",
    "900": "Clinical cytogenetics",
}
COVERAGE = {
    "C": "Carrier judgment",
    "D": "Special coverage instructions apply",
    "I": "Not payable by Medicare",
    "M": "Non-covered by Medicare",
    "S": "Non-covered by Medicare statute",
}
ASC_GROUP = {"YY": "Approved to be performed in an ambulatory surgical center"}
OPPS_PI = {
    "1": "ASC covered procedure",
    "2": "Bundled service/no separate payment",
    "3": "Excluded from ASC list",
    "4": "Invalid code/90 day grace period",
    "6": "Separate payment when furnished in an ASC",
    "7": "ASC restricted coverage procedure",
    "9": "ASC payment not applicable",
}
BETOS = {
    "D1A": "Medical/surgical supplies",
    "D1B": "Hospital beds",
    "D1C": "Oxygen and supplies",
    "D1D": "Wheelchairs",
    "D1E": "Other DME",
    "D1F": "Prosthetic/orthotic devices",
    "D1G": "Drugs administered through DME",
    "I1A": "Standard imaging - chest",
    "I1B": "Standard imaging - musculoskeletal",
    "I1C": "Standard imaging - breast",
    "I1D": "Standard imaging - contrast gastrointestinal",
    "I1E": "Standard imaging - nuclear medicine",
    "I1F": "Standard imaging - other",
    "I2A": "Advanced imaging - CAT/CT/CTA: brain/head/neck",
    "I2B": "Advanced imaging - CAT/CT/CTA: other",
    "I2C": "Advanced imaging - MRI/MRA: brain/head/neck",
    "I2D": "Advanced imaging - MRI/MRA: other",
    "I3A": "Echography/ultrasonography - eye",
    "I3B": "Echography/ultrasonography - abdomen/pelvis",
    "I3C": "Echography/ultrasonography - heart",
    "I3D": "Echography/ultrasonography - carotid arteries",
    "I3E": "Echography/ultrasonography - prostate, transrectal",
    "I3F": "Echography/ultrasonography - other",
    "I4A": "Imaging/procedure - heart including cardiac catheterization",
    "I4B": "Imaging/procedure - other",
    "M1A": "Office visits - new",
    "M1B": "Office visits - established",
    "M2A": "Hospital visit - initial",
    "M2B": "Hospital visit - subsequent",
    "M2C": "Hospital visit - critical care",
    "M3": "Emergency room visit",
    "M4A": "Home visit",
    "M4B": "Nursing home visit",
    "M5A": "Specialist - pathology",
    "M5B": "Specialist - psychiatry",
    "M5C": "Specialist - ophthalmology",
    "M5D": "Specialist - other",
    "M6": "Consultations",
    "O1A": "Ambulance",
    "O1B": "Chiropractic",
    "O1C": "Enteral and parenteral",
    "O1D": "Chemotherapy",
    "O1E": "Other drugs",
    "O1F": "Hearing and speech services",
    "O1G": "Immunizations/vaccinations",
    "O1L": "Lymphedema compression treatment items",
    "P0": "Anesthesia",
    "P1A": "Major procedure - breast",
    "P1B": "Major procedure - colectomy",
    "P1C": "Major procedure - cholecystectomy",
    "P1D": "Major procedure - turp",
    "P1E": "Major procedure - hysterectomy",
    "P1F": "Major procedure - explor/decompr/excisdisc",
    "P1G": "Major procedure - other",
    "P2A": "Major procedure, cardiovascular - CABG",
    "P2B": "Major procedure, cardiovascular - aneurysm repair",
    "P2C": "Major procedure, cardiovascular - thromboendarterectomy",
    "P2D": "Major procedure, cardiovascular - coronary angioplasty (PTCA)",
    "P2E": "Major procedure, cardiovascular - pacemaker insertion",
    "P2F": "Major procedure, cardiovascular - other",
    "P3A": "Major procedure, orthopedic - hip fracture repair",
    "P3B": "Major procedure, orthopedic - hip replacement",
    "P3C": "Major procedure, orthopedic - knee replacement",
    "P3D": "Major procedure, orthopedic - other",
    "P4A": "Eye procedure - corneal transplant",
    "P4B": "Eye procedure - cataract removal/lens insertion",
    "P4C": "Eye procedure - retinal detachment",
    "P4D": "Eye procedure - treatment of retinal lesions",
    "P4E": "Eye procedure - other",
    "P5A": "Ambulatory procedures - skin",
    "P5B": "Ambulatory procedures - musculoskeletal",
    "P5C": "Ambulatory procedures - inguinal hernia repair",
    "P5D": "Ambulatory procedures - lithotripsy",
    "P5E": "Ambulatory procedures - other",
    "P6A": "Minor procedures - skin",
    "P6B": "Minor procedures - musculoskeletal",
    "P6C": "Minor procedures - other (Medicare fee schedule)",
    "P6D": "Minor procedures - other (non-Medicare fee schedule)",
    "P7A": "Oncology - radiation therapy",
    "P7B": "Oncology - other",
    "P8A": "Endoscopy - arthroscopy",
    "P8B": "Endoscopy - upper gastrointestinal",
    "P8C": "Endoscopy - sigmoidoscopy",
    "P8D": "Endoscopy - colonoscopy",
    "P8E": "Endoscopy - cystoscopy",
    "P8F": "Endoscopy - bronchoscopy",
    "P8G": "Endoscopy - laparoscopic cholecystectomy",
    "P8H": "Endoscopy - laryngoscopy",
    "P8I": "Endoscopy - other",
    "P9A": "Dialysis services (Medicare fee schedule)",
    "P9B": "Dialysis services (non-Medicare fee schedule)",
    "T1A": "Lab tests - routine venipuncture (non-Medicare fee schedule)",
    "T1B": "Lab tests - automated general profiles",
    "T1C": "Lab tests - urinalysis",
    "T1D": "Lab tests - blood counts",
    "T1E": "Lab tests - glucose",
    "T1F": "Lab tests - bacterial cultures",
    "T1G": "Lab tests - other (Medicare fee schedule)",
    "T1H": "Lab tests - other (non-Medicare fee schedule)",
    "T2A": "Other tests - electrocardiograms",
    "T2B": "Other tests - cardiovascular stress tests",
    "T2C": "Other tests - EKG monitoring",
    "T2D": "Other tests - other",
    "Y1": "Other - Medicare fee schedule",
    "Y2": "Other - non-Medicare fee schedule",
    "Z1": "Local codes",
    "Z2": "Undefined codes",
}
TYPE_OF_SERVICE = {
    "0": "Whole blood",
    "1": "Medical care",
    "2": "Surgery",
    "3": "Consultation",
    "4": "Diagnostic radiology",
    "5": "Diagnostic laboratory",
    "6": "Therapeutic radiology",
    "7": "Anesthesia",
    "8": "Assistant at surgery",
    "9": "Other medical items or services",
    "A": "Used DME",
    "B": "High risk screening mammography (obsolete 1/1/98)",
    "C": "Low risk screening mammography (obsolete 1/1/98)",
    "D": "Ambulance",
    "E": "Enteral/parenteral nutrients/supplies",
    "F": "Ambulatory surgical center (facility usage for surgical services)",
    "G": "Immunosuppressive drugs",
    "H": "Hospice services (discontinued 01/95)",
    "I": "Purchase of DME (installment basis) (discontinued 04/95)",
    "J": "Diabetic shoes",
    "K": "Hearing items and services",
    "L": "ESRD supplies",
    "M": "Monthly capitation payment for dialysis",
    "N": "Kidney donor",
    "P": "Lump sum purchase of DME, prosthetics, orthotics",
    "Q": "Vision items or services",
    "R": "Rental of DME",
    "S": "Surgical dressings or other medical supplies",
    "T": "Outpatient mental health limitation",
    "U": "Occupational therapy",
    "V": "Pneumococcal/flu vaccine",
    "W": "Physical therapy",
    "Y": "Second opinion on elective surgery (obsoleted 1/97)",
    "Z": "Third opinion on elective surgery (obsoleted 1/97)",
}
ACTION = {
    "A": "Add procedure or modifier code",
    "B": "Change in both administrative data field and long description of procedure or modifier code",
    "C": "Change in long description of procedure or modifier code",
    "D": "Discontinue procedure or modifier code",
    "F": "Change in administrative data field of procedure or modifier code",
    "N": "No maintenance for this code",
    "P": "Payment change (MOG, pricing indicator codes, anesthesia base units, Ambulatory Surgical Centers)",
    "R": "Re-activate discontinued/deleted procedure or modifier code",
    "S": "Change in short description of procedure code",
    "T": "Miscellaneous change (BETOS, type of service)",
}

# (label, fields, words or None); a label over several fields repeats once per filled field, in file order.
# SEQNUM is left out: it orders a code's records within the file, says nothing about the code, and CMS writes it
# differently in the two forms of one release (00100 in the text, 0010 in the .xlsx).
ATTRIBUTES: tuple[tuple[str, tuple[str, ...], dict[str, str] | None], ...] = (
    ("Pricing indicator", ("PRICE1", "PRICE2", "PRICE3", "PRICE4"), PRICING),
    ("Multiple pricing indicator", ("MULT_PI",), MULT_PI),
    ("CIM reference", ("CIM1", "CIM2", "CIM3"), None),
    ("MCM reference", ("MCM1", "MCM2", "MCM3"), None),
    ("Statute", ("STATUTE",), None),
    ("Lab certification", tuple(f"LABCERT{i}" for i in range(1, 9)), LABCERT),
    (CROSS_REFERENCE, tuple(f"XREF{i}" for i in range(1, 6)), None),
    ("Coverage", ("COV",), COVERAGE),
    ("ASC payment group", ("ASC_GRP",), ASC_GROUP),
    ("ASC payment group effective date", ("ASC_DT",), None),
    ("OPPS payment group", ("OPPS",), None),
    ("OPPS payment policy indicator", ("OPPS_PI",), OPPS_PI),
    ("OPPS effective date", ("OPPS_DT",), None),
    ("Processing note", ("PROCNOTE",), None),
    ("BETOS", ("BETOS",), BETOS),
    ("Type of service", tuple(f"TOS{i}" for i in range(1, 6)), TYPE_OF_SERVICE),
    ("Anesthesia base units", ("ANEST_BU",), None),
    (ADDED_DATE, ("ADD_DT",), None),
    ("Action effective date", ("ACT_EFF_DT",), None),
    (TERMINATION_DATE, ("TERM_DT",), None),
    ("Action code", ("ACTION_CD",), ACTION),
)

_MONTHS = {
    "JAN": "January",
    "FEB": "February",
    "MAR": "March",
    "APR": "April",
    "MAY": "May",
    "JUN": "June",
    "JUL": "July",
    "AUG": "August",
    "SEP": "September",
    "OCT": "October",
    "NOV": "November",
    "DEC": "December",
}
_NAME = re.compile(r"HCPC(\d{4})(?:_([A-Z]{3}))?", re.I)
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_XLSX_NAME = re.compile(r"HCPC\d{4}(_[A-Z]{3})?_(CONTR_)?ANWEB(_v\d+)?\.xlsx$", re.I)


def release_from_name(*names: str) -> str | None:
    for name in names:
        m = _NAME.search(name or "")
        if m:
            year, mon = m.group(1), (m.group(2) or "").upper()
            return f"{year} {_MONTHS[mon]}" if mon in _MONTHS else year
    return None


def _looks_like_record(line: str) -> bool:
    # CMS right-justifies a modifier in the 5-byte HCPC field ("   A1"); a left-justified one is read as well.
    hcpc = line[:5].strip()
    return len(line) >= 11 and line[5:10].isdigit() and len(hcpc) >= 2 and hcpc.isascii() and hcpc.isalnum()


def _release_from_preamble(m: Member) -> str | None:
    if m.data[:2] == b"PK":
        return None
    head = m.data[:8192].decode("latin-1")
    found = re.search(r"\b(January|April|July|October)\s+(20\d{2})\b", head, re.I)
    return f"{found.group(2)} {found.group(1).capitalize()}" if found else None


def _is_record(line: str) -> bool:
    """A first or continuation record: what ends the preamble."""
    return len(line) >= 92 and line[10] in "3478" and _looks_like_record(line)


def sniff_content(name: str, head: bytes) -> bool:
    text = head.decode("latin-1")
    return any(_is_record(line.rstrip("\r")) and len(line.rstrip("\r")) >= 280 for line in text.split("\n")[:200])


def sniff_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if _XLSX_NAME.search(base):
        return True
    return bool(re.search(r"HCPC\d{4}.*ANWEB.*\.txt$", base, re.I)) and "transreport" not in base.lower()


_EXCEL_EPOCH = _dt.date(1899, 12, 30)


def sniff(name: str, head: bytes) -> float:
    """ANWEB records decide; an .xlsx (a zip: its head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(name, head):
        return kind.CONTENT
    if sniff_name(name):
        return kind.NAME_OF_CONTAINER if head[:2] == b"PK" else kind.NAME_ONLY
    return 0.0


def _date(file: str, where: str, field: str, raw: str) -> str:
    if not raw:
        return ""
    # The text form has YYYYMMDD; a workbook may hold a date cell (read as YYYYMMDD), an Excel day number, or text.
    if raw.isdigit() and len(raw) <= 5 and file.lower().endswith((".xlsx", ".xlsm")):
        return (_EXCEL_EPOCH + _dt.timedelta(days=int(raw))).isoformat()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return _dt.datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            continue
    raise DataError(f"{file}: {where}, field {field}: expected a date YYYYMMDD, found {raw!r}")


class _Builder:
    """Joins first and continuation records into codes and modifiers; both forms feed it the same fields."""

    def __init__(self, file: str, release: str, parsed: Parsed):
        self.file, self.release, self.parsed = file, release, parsed
        self.cur: dict[str, str] | None = None
        self.cur_kind = ""  # "code" or "modifier"
        self.cur_where = ""
        self.long: list[str] = []
        self.skipping = ""  # code of a skipped record whose continuations are skipped with it
        self.seen: dict[str, str] = {}

    def add(self, where: str, lineno: int, f: dict[str, str]) -> None:
        recid, hcpc = f["RECID"], f["HCPC"]
        code = hcpc.strip()
        is_mod = len(code) == 2
        if recid not in ("3", "4", "7", "8"):
            raise DataError(f"{self.file}: {where}, field RECID: expected 3, 4, 7 or 8, found {recid!r}")
        if recid in ("4", "8"):
            want = "4" if self.cur_kind == "code" else "8"
            if self.skipping and code == self.skipping:
                self.parsed.skip(self.file, lineno, f"continues skipped record {code}")
                return
            if self.cur is None or code != self.cur["HCPC"].strip():
                raise DataError(
                    f"{self.file}: {where}, field RECID: found {recid!r} (a continued description) for {code!r}, "
                    "but no first record of that code precedes it"
                )
            if recid != want:
                raise DataError(
                    f"{self.file}: {where}, field RECID: expected {want} after a continued description of "
                    f"{code}, found {recid!r}"
                )
            self.long.append(f["LONG_DESCRIPTION"])
            return
        if self.cur is not None and code == self.cur["HCPC"].strip():
            want = "4" if self.cur_kind == "code" else "8"
            first = "3" if self.cur_kind == "code" else "7"
            raise DataError(
                f"{self.file}: {where}, field RECID: expected {first} or {want} after a continued description, "
                f"found {recid!r}"
            )
        self.flush()
        if (recid == "7") != is_mod:
            raise DataError(
                f"{self.file}: {where}, field RECID: {recid!r} is for "
                f"{'modifiers' if recid == '7' else 'procedure codes'}, but HCPC is {code!r}"
            )
        ok = _MODIFIER.fullmatch(code) if is_mod else HCPCS_CODE.fullmatch(code)
        if not ok:
            what = "a Level II modifier (2 letters or digits)" if is_mod else "an HCPCS code (a letter A-V, 4 digits)"
            self.parsed.skip(self.file, lineno, f"HCPC {code!r} is not {what}")
            self.skipping = code
            return
        key = ("m:" if is_mod else "c:") + code
        if key in self.seen:
            raise DataError(f"{self.file}: {where}, field HCPC: {code} was already given at {self.seen[key]}")
        self.seen[key] = where
        self.skipping = ""
        self.cur, self.cur_kind, self.cur_where = f, ("modifier" if is_mod else "code"), where
        self.long = [f["LONG_DESCRIPTION"]]

    def flush(self) -> None:
        f = self.cur
        if f is None:
            return
        self.cur = None
        where = self.cur_where
        long = " ".join(s.strip() for s in self.long if s.strip())
        long = re.sub(r" {2,}", " ", long)
        descriptors = [("long", long)]
        short = f["SHORT_DESCRIPTION"].strip()
        if short:
            descriptors.append(("short", short))
        attrs: list[Attribute] = []
        for label, fields, words in ATTRIBUTES:
            for name in fields:
                raw = f.get(name, "").strip()
                if not raw:
                    continue
                if name in DATE_FIELDS:
                    attrs.append(Attribute(label, _date(self.file, where, name, raw)))
                else:
                    attrs.append(Attribute(label, raw, words.get(raw) if words else None))
        code = f["HCPC"].strip()
        if self.cur_kind == "modifier":
            self.parsed.modifiers.append(
                ImportedModifier(code, KIND, self.release, self.file, tuple(descriptors), tuple(attrs))
            )
        else:
            self.parsed.codes.append(
                ImportedCode(code, KIND, self.release, self.file, tuple(descriptors), tuple(attrs))
            )


def _txt_records(m: Member) -> Iterator[tuple[int, str]]:
    text = m.text().replace("\xa0", " ")
    started = False
    for i, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not started:
            # A full-length record with a bad RECID still ends the preamble, so it is reported, not passed over.
            if _is_record(line) or (len(line) >= 280 and _looks_like_record(line)):
                started = True
            else:
                continue
        yield i, line


# A first record (RECID 3 or 7) is complete once it reaches its last field, the action code (positions 294-320 are
# filler); a continuation (RECID 4 or 8) carries positions 1-91 only, which CMS writes as a 91-byte line.
_LAST_FIELD_END = LAYOUT[-1][1] + LAYOUT[-1][2] - 1
_CONTINUATION_END = 91


def _cut_short(m: Member, lineno: int, line: str) -> DataError:
    """The refusal of a record that stops before its layout ends: a file still being downloaded or written."""
    end = len(line)
    inside = next((f"inside {name} (positions {a}-{a + w - 1})" for name, a, w in LAYOUT if a + w - 1 > end), "")
    return DataError(
        f"{m.name}: line {lineno}: the file is cut short: the record ends at position {end} {inside}".rstrip()
        + "; import the whole file (is it still being downloaded or written?)"
    )


def _check_whole(m: Member, lineno: int, line: str, last: bool) -> None:
    if _looks_like_record(line):
        need = _LAST_FIELD_END if line[10] in "37" else _CONTINUATION_END if line[10] in "48" else 0
        if len(line) < need:
            raise _cut_short(m, lineno, line)
    elif last:  # a fragment after the last line end: too short to be a record at all
        raise _cut_short(m, lineno, line)


def _parse_txt(m: Member, release: str, parsed: Parsed, progress=None) -> None:
    b = _Builder(m.name, release, parsed)
    n = 0
    data = m.data.rstrip(b" \t\x1a")
    # The line after the last line end, if the file does not end with one: where a cut file stops.
    last = data.count(b"\n") + 1 if data and not data.endswith(b"\n") else 0
    for lineno, line in _txt_records(m):
        if not line.strip(" \t\x1a"):  # blank lines and a DOS end-of-file mark after the last record
            continue
        _check_whole(m, lineno, line, lineno == last)
        if len(line) > RECORD_LEN:
            raise DataError(
                f"{m.name}: line {lineno}, field record length: expected {RECORD_LEN} characters, found {len(line)}"
            )
        if not _looks_like_record(line):
            parsed.skip(m.name, lineno, "not an HCPCS record (no code, sequence number and RECID 3, 4, 7 or 8)")
            continue
        line = line.ljust(RECORD_LEN)
        b.add(f"line {lineno}", lineno, {name: line[a:z] for name, a, z in _SLICES})
        n += 1
        if progress is not None and n % 2000 == 0:
            progress("reading", n, None)
    b.flush()


def _cell(name: str, v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, _dt.datetime | _dt.date):
        return v.strftime("%Y%m%d")
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        s = str(v)
        return s.zfill(_WIDTH[name]) if name not in DATE_FIELDS and len(s) < _WIDTH.get(name, 0) else s
    return str(v).replace("\xa0", " ").strip()


def _header_key(v: object) -> str:
    return re.sub(r"[\s_]+", "_", str(v or "").strip().upper())


def _data_sheet(name: str, wb):
    """The sheet whose first rows hold the HCPC/RECID header (the first sheet if none does, to be refused)."""
    for ws in wb.worksheets:
        for _, row in archive.rows(name, ws, SHEET_COLUMNS, max_row=30):
            keys = [_header_key(v) for v in row]
            if "HCPC" in keys and "RECID" in keys:
                return ws
    return wb.worksheets[0]


def _parse_xlsx(m: Member, release: str, parsed: Parsed, progress=None) -> None:
    wb = archive.workbook(m.name, m.data)
    try:
        ws = _data_sheet(m.name, wb)
        cols: dict[str, int] | None = None
        pairs: list[tuple[str, int]] = []
        b = _Builder(m.name, release, parsed)
        n = 0
        for r, row in archive.rows(m.name, ws, SHEET_COLUMNS):
            if cols is None:
                keys = [_header_key(v) for v in row]
                if "HCPC" in keys and "RECID" in keys:
                    cols = {k: i for i, k in enumerate(keys) if k}
                    pairs = [(name, cols[name]) for name in _WIDTH if name in cols]
                    missing = [name for name, _, _ in LAYOUT if name not in cols]
                    if missing:
                        raise DataError(f"{m.name}: row {r}, header: missing column(s) {', '.join(missing)}")
                continue
            if all(v is None or str(v).strip() == "" for v in row):
                continue
            f = dict.fromkeys(_WIDTH, "")
            width = len(row)
            for name, i in pairs:
                v = row[i] if i < width else None
                if v is None:
                    continue
                # Text cells are nearly all of them; only numbers and dates need _cell's conversions.
                f[name] = (
                    (v.replace("\xa0", " ").strip() if "\xa0" in v else v.strip()) if type(v) is str else _cell(name, v)
                )
            if not f["HCPC"] or not f["RECID"]:
                parsed.skip(m.name, r, "row has no HCPC or RECID")
                continue
            b.add(f"row {r}", r, f)
            n += 1
            if progress is not None and n % 2000 == 0:
                progress("reading", n, None)
        if cols is None:
            raise DataError(f"{m.name}: no header row with HCPC and RECID columns")
        b.flush()
    finally:
        wb.close()


def _preferred(m: Member) -> int:
    return 0 if m.name.lower().endswith(".txt") else 1


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    """One form per release: the text is read when both are given (it is the form CMS documents)."""
    ordered = sorted(members, key=_preferred)
    keep = ordered[0]
    return [keep], [(m, f"another form of the same set; {keep.name} was imported") for m in ordered[1:]]


sets = kind.one_set(choose)


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    members = list(members)
    m = members[0]
    release = release_from_name(m.name, hint) or _release_from_preamble(m) or "unknown release"
    parsed = Parsed(release=release)
    if m.name.lower().endswith((".xlsx", ".xlsm")) or m.data[:2] == b"PK":
        _parse_xlsx(m, release, parsed, progress)
    else:
        _parse_txt(m, release, parsed, progress)
    if not parsed.codes and not parsed.modifiers:
        raise DataError(f"{m.name}: no HCPCS records found")
    return parsed
