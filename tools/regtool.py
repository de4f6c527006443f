#!/usr/bin/env python3
"""regtool: the register map and memory layouts of the unit, from one YAML description.

Reads rtl/regs/xtu_regs.yaml (the register map) and rtl/regs/xtu_layouts.yaml (enums and memory
layouts), validates them, and writes

    rtl/pkg/xtu_reg_pkg.sv        SystemVerilog package (offsets, resets, fields, enums, structs)
    rtl/regs/xtu_reg_top.sv       the register block's RTL (AXI4-Lite slave, every register: see
                                  rtl_view() for how each one becomes hardware)
    driver/include/xtu/regs.hpp   C++17 header (the driver and the SystemC model)
    docs/registers.md             the register table, the fields, the counters
    docs/layouts.md               the enums and the memory layouts

The generated files are committed; `regtool.py --check` (and the CTest regtool_outputs_up_to_date)
regenerates them into a temporary directory and fails with a diff when a committed one differs.

Usage:
    tools/regtool.py                      regenerate the outputs in the source tree
    tools/regtool.py --check              exit 1, with a diff, if a committed output is stale
    tools/regtool.py --sv-check FILE      write a SystemVerilog module that checks every constant
                                          of the package (for Yosys: tests/regtool/yosys_check.sh)

Exit status: 0 on success, 1 on validation errors or stale outputs, 2 on usage errors.
Only the standard library, PyYAML and Jinja2 are used.
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import jinja2
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import regtool_keywords  # noqa: E402  (a sibling module, found through the line above)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = Path(__file__).resolve().parent / "regtool_templates"
DEFAULT_REGS = ROOT / "rtl" / "regs" / "xtu_regs.yaml"
DEFAULT_LAYOUTS = ROOT / "rtl" / "regs" / "xtu_layouts.yaml"
TOOL = "tools/regtool.py"

ACCESS_TYPES = ("ro", "rw", "w1c", "w1s")
UPPER_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
LOWER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_PREFIX = "rsvd"  # padding members of the generated structs are named rsvd<position>


class ValidationError(Exception):
    """The inputs are invalid; `messages` lists every problem found."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


# ------------------------------------------------------------------------------------------------
# Loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a mapping with the same key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(path: Path, label: str) -> Any:
    """Parse one YAML file; a syntax error or a duplicate key is a ValidationError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError([f"{label}: cannot read: {e.strerror}"]) from e
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        raise ValidationError([f"{label}: invalid YAML: {e}"]) from e


def display_path(path: Path) -> str:
    """`path` relative to the repository root when it is inside it (as generated files name it)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


# ------------------------------------------------------------------------------------------------
# The model


@dataclass
class RegField:
    """A bit field of a register."""
    name: str
    lsb: int
    width: int
    access: str
    reset: int
    desc: str

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass
class Register:
    """A 32- or 64-bit register (a 64-bit one is two words: low at `offset`, high at +4)."""
    name: str
    offset: int
    width: int
    access: str
    reset: int
    desc: str
    fields: list[RegField] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return self.width // 8


@dataclass
class Counter:
    """A 64-bit read-only counter; `packet_type` is set for the per-packet-type ones."""
    name: str
    index: int
    offset: int
    desc: str
    packet_type: Optional[str] = None


@dataclass
class RegMap:
    """The register map: registers, counters and identification."""
    name: str
    ident: int
    version: tuple[int, int, int]
    data_width: int
    size: int
    registers: list[Register]
    counter_base: int
    counters: list[Counter]
    packet_types: list[str]
    source: str

    @property
    def addr_width(self) -> int:
        return max(1, (self.size - 1).bit_length())

    @property
    def version_word(self) -> int:
        major, minor, patch = self.version
        return major << 16 | minor << 8 | patch

    @property
    def pkt_first(self) -> int:
        return len(self.counters) - len(self.packet_types)


@dataclass
class Enum:
    """A named set of values; `width` is the bits of its SystemVerilog type."""
    name: str
    desc: str
    values: list[tuple[str, int]]
    width: int
    explicit_width: bool
    users: list[str] = field(default_factory=list)  # "layout.field" that use it


@dataclass
class LayoutField:
    """A field of a memory layout; `lsb` counts bits from byte 0 bit 0 (little-endian)."""
    name: str
    lsb: int
    width: int
    desc: str
    enum: Optional[str]

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    @property
    def byte(self) -> int:
        return self.lsb // 8

    @property
    def nbytes(self) -> int:
        return self.width // 8


@dataclass
class Layout:
    """A memory structure: byte fields (`kind` "bytes") or bit fields of one word ("bits")."""
    name: str
    desc: str
    size: int
    kind: str
    fields: list[LayoutField]


@dataclass
class Model:
    """Everything the generators need."""
    regs: RegMap
    enums: list[Enum]
    layouts: list[Layout]
    layouts_source: str

    def enum(self, name: str) -> Enum:
        return next(e for e in self.enums if e.name == name)


# ------------------------------------------------------------------------------------------------
# Validation helpers


class Checker:
    """Collects validation errors of one file, each prefixed with the file and the item."""

    def __init__(self, label: str, errors: list[str]):
        self.label = label
        self.errors = errors

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{self.label}: {where}: {message}" if where else f"{self.label}: {message}")

    def mapping(self, value: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> bool:
        """Is `value` a mapping with every required key and no unknown one? Reports what is wrong."""
        if not isinstance(value, dict):
            self.error(where, f"expected a mapping, got {type(value).__name__}")
            return False
        ok = True
        for key in required:
            if key not in value:
                self.error(where, f"missing key '{key}'")
                ok = False
        for key in value:
            if key not in required and key not in optional:
                known = ", ".join(required + optional)
                self.error(where, f"unknown key '{key}' (known: {known})")
                ok = False
        return ok

    def integer(self, value: Any, where: str, what: str, minimum: int = 0) -> Optional[int]:
        """`value` as an int >= minimum, or None (reported)."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(where, f"{what} must be an integer, got {value!r}")
            return None
        if value < minimum:
            self.error(where, f"{what} must be at least {minimum}, got {value}")
            return None
        return value

    def name(self, value: Any, where: str, what: str, pattern: re.Pattern, style: str) -> Optional[str]:
        """`value` as a name matching `pattern`, or None (reported)."""
        if not isinstance(value, str):
            hint = " (quote it: YAML reads yes/no/on/off as booleans)" if isinstance(value, bool) else ""
            self.error(where, f"{what} must be a string, got {value!r}{hint}")
            return None
        if not pattern.match(value):
            self.error(where, f"{what} '{value}' must be {style}")
            return None
        if value.lower().startswith(RESERVED_PREFIX):
            self.error(where, f"{what} '{value}': names starting with '{RESERVED_PREFIX}' are reserved for padding")
            return None
        return value

    def text(self, value: Any, where: str, what: str) -> str:
        """An optional description: a string, whitespace collapsed."""
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(where, f"{what} must be a string, got {value!r}")
            return ""
        return " ".join(value.split())

    def unique(self, names: list[tuple[str, str]], what: str) -> None:
        """Report every name of (name, where) pairs that occurs more than once."""
        seen: dict[str, str] = {}
        for name, where in names:
            if name in seen:
                self.error(where, f"duplicate {what} '{name}' (also {seen[name]})")
            else:
                seen[name] = where


def item_where(kind: str, raw: Any, index: int) -> str:
    """How messages name a list item: by its name when it has a string one, else by position."""
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        return f"{kind} {raw['name']}"
    return f"{kind} #{index}"


def parse_bits(value: Any) -> Optional[tuple[int, int]]:
    """"msb:lsb", "n" or an int n as (msb, lsb); None when malformed or msb < lsb."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?::\s*(\d+)\s*)?", value)
    if not m:
        return None
    msb = int(m.group(1))
    lsb = int(m.group(2)) if m.group(2) is not None else msb
    return (msb, lsb) if msb >= lsb else None


def with_desc(head: str, desc: str) -> str:
    """ "head: desc", or just "head" without a description."""
    return f"{head}: {desc}" if desc else head


def bits_text(msb: int, lsb: int) -> str:
    """Bit range as written in the docs: "7:0" or "3"."""
    return f"{msb}:{lsb}" if msb != lsb else str(lsb)


def overlaps(items: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """Pairs of names whose half-open ranges [start, end) intersect."""
    result = []
    ordered = sorted(items)
    for i, (_start, end, name) in enumerate(ordered):
        for start2, _end2, name2 in ordered[i + 1:]:
            if start2 >= end:  # sorted by start: no later item reaches back either
                break
            result.append((name, name2))
    return result


def check_keyword(check: Checker, where: str, name: str, what: str, sv: bool = True) -> None:
    """A name emitted unprefixed must not be a reserved word of C++ (nor of SystemVerilog, when
    `sv`: the name is a struct member there)."""
    langs = [("C++", regtool_keywords.CPP)] + ([("SystemVerilog", regtool_keywords.SYSTEMVERILOG)] if sv else [])
    for lang, words in langs:
        if name in words:
            check.error(where, f"{what} '{name}' is a reserved word in {lang} (it is emitted as an identifier): rename it")


# ------------------------------------------------------------------------------------------------
# The register map


def parse_register_fields(check: Checker, reg: Register, raw_fields: Any) -> None:
    """Parse and check the bit fields of `reg` (appended to reg.fields)."""
    if not isinstance(raw_fields, list):
        check.error(f"register {reg.name}", "fields must be a list")
        return
    for i, raw in enumerate(raw_fields):
        where = item_where(f"register {reg.name}: field", raw, i)
        if not check.mapping(raw, where, ("name", "bits"), ("access", "reset", "desc")):
            continue
        name = check.name(raw["name"], where, "field name", UPPER_NAME, "UPPER_SNAKE_CASE")
        if name is None:
            continue
        where = f"register {reg.name}: field {name}"
        bits = parse_bits(raw["bits"])
        if bits is None:
            check.error(where, f"bits {raw['bits']!r} must be \"msb:lsb\" (msb >= lsb) or a bit number")
            continue
        msb, lsb = bits
        if msb >= reg.width:
            check.error(where, f"bits {bits_text(msb, lsb)} are outside the {reg.width}-bit register")
            continue
        if reg.width == 64 and lsb < 32 <= msb:
            check.error(where, f"bits {bits_text(msb, lsb)} cross the two words of the 64-bit register (bit 31/32)")
            continue
        access = raw.get("access", reg.access)
        if access not in ACCESS_TYPES:
            check.error(where, f"access '{access}' must be one of {', '.join(ACCESS_TYPES)}")
            continue
        width = msb - lsb + 1
        reset = check.integer(raw.get("reset", 0), where, "reset")
        if reset is None:
            continue
        if reset >> width:
            check.error(where, f"reset {reset:#x} does not fit in {width} bit(s)")
            continue
        desc = check.text(raw.get("desc"), where, "desc")
        reg.fields.append(RegField(name, lsb, width, access, reset, desc))

    check.unique([(f.name, f"register {reg.name}: field {f.name}") for f in reg.fields], "field name")
    for a, b in overlaps([(f.lsb, f.msb + 1, f.name) for f in reg.fields]):
        check.error(f"register {reg.name}", f"fields {a} and {b} overlap")
    reg.fields.sort(key=lambda f: f.lsb)


def parse_register(check: Checker, raw: Any, index: int, size: Optional[int]) -> Optional[Register]:
    """Parse and check one register (its placement in the map is checked by the caller)."""
    where = item_where("register", raw, index)
    if not check.mapping(raw, where, ("name", "offset", "access"), ("width", "reset", "desc", "fields")):
        return None
    name = check.name(raw["name"], where, "register name", UPPER_NAME, "UPPER_SNAKE_CASE")
    if name is None:
        return None
    where = f"register {name}"
    check_keyword(check, where, name.lower(), "register name (in lower case, a C++ namespace)", sv=False)
    width = raw.get("width", 32)
    if width not in (32, 64):
        check.error(where, f"width must be 32 or 64, got {width!r}")
        return None
    offset = check.integer(raw["offset"], where, "offset")
    if offset is None:
        return None
    ok = True
    if offset % 4:
        check.error(where, f"offset {offset:#x} is not word-aligned (a multiple of 4)")
        ok = False
    elif width == 64 and offset % 8:
        check.error(where, f"offset {offset:#x} of a 64-bit register is not 8-byte aligned")
        ok = False
    if size is not None and offset + width // 8 > size:
        check.error(where, f"offset {offset:#x} + {width // 8} bytes runs past the register space (size {size:#x})")
        ok = False
    access = raw["access"]
    if access not in ACCESS_TYPES:
        check.error(where, f"access '{access}' must be one of {', '.join(ACCESS_TYPES)}")
        ok = False
    desc = check.text(raw.get("desc"), where, "desc")
    reg = Register(name, offset, width, access, 0, desc)
    if "fields" in raw:
        parse_register_fields(check, reg, raw["fields"])
    ok = settle_register_reset(check, reg, raw) and ok
    return reg if ok else None


def settle_register_reset(check: Checker, reg: Register, raw: dict) -> bool:
    """Set reg.reset: the register's `reset`, or else the fields' resets put together. A given
    reset must fit, set no bit outside the fields (if any), and agree with the fields' resets
    (if any are given). Each field's reset then is its part of the register's."""
    field_reset = 0
    for f in reg.fields:
        field_reset |= f.reset << f.lsb
    reg.reset = field_reset
    where = f"register {reg.name}"
    ok = True
    if "reset" in raw:
        reset = check.integer(raw["reset"], where, "reset")
        if reset is None:
            return False
        if reset >> reg.width:
            check.error(where, f"reset {reset:#x} does not fit in {reg.width} bits")
            return False
        fields_with_reset = any("reset" in f for f in raw.get("fields") or [] if isinstance(f, dict))
        covered = sum(f.mask for f in reg.fields)
        if reg.fields and reset & ~covered:
            check.error(where, f"reset {reset:#x} sets bits outside every field (mask {reset & ~covered:#x})")
            ok = False
        elif fields_with_reset and reset != field_reset:
            check.error(where, f"reset {reset:#x} differs from the fields' resets ({field_reset:#x})")
            ok = False
        reg.reset = reset
    for f in reg.fields:
        f.reset = (reg.reset & f.mask) >> f.lsb
    return ok


def parse_counters(check: Checker, raw: Any, size: Optional[int]) -> tuple[int, list[Counter], list[str]]:
    """Parse the counters section: (base, counters, packet types)."""
    where = "counters"
    if not check.mapping(raw, where, ("base",), ("list", "packet_types")):
        return 0, [], []
    base = check.integer(raw["base"], where, "base")
    if base is None:
        return 0, [], []
    if base % 8:
        check.error(where, f"base {base:#x} is not 8-byte aligned")
    entries: list[tuple[str, str, Optional[str], str]] = []  # name, desc, packet type, where
    raw_list = raw.get("list", [])
    if not isinstance(raw_list, list):
        check.error(where, "list must be a list")
        raw_list = []
    for i, item in enumerate(raw_list):
        w = item_where("counters:", item, i)
        if not check.mapping(item, w, ("name",), ("desc",)):
            continue
        name = check.name(item["name"], w, "counter name", UPPER_NAME, "UPPER_SNAKE_CASE")
        if name is not None:
            entries.append((name, check.text(item.get("desc"), w, "desc"), None, f"counters: {name}"))
    packet_types = raw.get("packet_types", [])
    if not isinstance(packet_types, list):
        check.error(where, "packet_types must be a list")
        packet_types = []
    good_types = []
    for i, ptype in enumerate(packet_types):
        w = f"counters: packet_types #{i}"
        if not isinstance(ptype, str):
            check.error(w, f"packet type must be a string, got {ptype!r}")
            continue
        name = "PKT_" + ptype.replace(".", "_").upper()
        if not UPPER_NAME.match(name):
            check.error(w, f"packet type '{ptype}' does not make a counter name ({name})")
            continue
        good_types.append(ptype)
        entries.append((name, f"Packets of type {ptype}", ptype, f"counters: {name} (packet type '{ptype}')"))
    check.unique([(name, w) for name, _, _, w in entries], "counter name")
    counters = [Counter(name, i, base + 8 * i, desc, ptype) for i, (name, desc, ptype, _) in enumerate(entries)]
    end = base + 8 * len(counters)
    if size is not None and end > size:
        check.error(where, f"{len(counters)} counters from {base:#x} end at {end:#x}, past the register space (size {size:#x})")
    return base, counters, good_types


def parse_regmap(data: Any, label: str, errors: list[str]) -> Optional[RegMap]:
    """Parse and validate the register map; None when it has errors (appended to `errors`)."""
    check = Checker(label, errors)
    n_before = len(errors)
    if not check.mapping(data, "", ("name", "id", "version", "size", "registers"), ("data_width", "counters")):
        return None
    name = check.name(data["name"], "", "name", LOWER_NAME, "lower_snake_case")
    ident = check.integer(data["id"], "", "id")
    if ident is not None and ident >> 32:
        check.error("", f"id {ident:#x} does not fit in 32 bits")
    version = (0, 0, 0)
    if check.mapping(data["version"], "version", ("major", "minor", "patch"), ()):
        parts = [check.integer(data["version"][k], "version", k) for k in ("major", "minor", "patch")]
        for key, part in zip(("major", "minor", "patch"), parts):
            if part is not None and part > 255:
                check.error("version", f"{key} {part} does not fit in 8 bits")
        if None not in parts:
            version = tuple(parts)  # type: ignore[assignment]
    data_width = data.get("data_width", 32)
    if data_width != 32:
        check.error("", f"data_width must be 32 (AXI4-Lite words), got {data_width!r}")
    size = check.integer(data["size"], "", "size", minimum=4)
    if size is not None and size & (size - 1):
        check.error("", f"size {size:#x} must be a power of two (the address decode uses its low bits)")
        size = None

    registers: list[Register] = []
    if not isinstance(data["registers"], list) or not data["registers"]:
        check.error("", "registers must be a non-empty list")
    else:
        for i, raw in enumerate(data["registers"]):
            reg = parse_register(check, raw, i, size)
            if reg is not None:
                registers.append(reg)
    check.unique([(r.name, f"register {r.name}") for r in registers], "register name")

    base, counters, packet_types = 0, [], []
    if "counters" in data:
        base, counters, packet_types = parse_counters(check, data["counters"], size)
    spans = [(r.offset, r.offset + r.nbytes, f"register {r.name}") for r in registers]
    if counters:
        spans.append((base, base + 8 * len(counters), f"the counters ({base:#x}..{base + 8 * len(counters) - 1:#x})"))
    for a, b in overlaps(spans):
        check.error("", f"{a} and {b} overlap")

    by_name = {r.name: r for r in registers}
    if ident is not None and "ID" in by_name and by_name["ID"].reset != ident:
        check.error("register ID", f"reset {by_name['ID'].reset:#x} differs from id {ident:#x}")
    vword = version[0] << 16 | version[1] << 8 | version[2]
    if "VERSION" in by_name and by_name["VERSION"].reset != vword:
        check.error("register VERSION", f"reset {by_name['VERSION'].reset:#x} differs from version "
                    f"{version[0]}.{version[1]}.{version[2]} (major << 16 | minor << 8 | patch = {vword:#x})")

    if len(errors) > n_before:
        return None
    registers.sort(key=lambda r: r.offset)
    return RegMap(name, ident, version, data_width, size, registers, base, counters, packet_types, label)


# ------------------------------------------------------------------------------------------------
# Enums and layouts


def parse_enums(check: Checker, raw: Any) -> list[Enum]:
    """Parse the enums section (widths are settled later, once the layouts are known)."""
    enums: list[Enum] = []
    if not isinstance(raw, dict):
        check.error("enums", "must be a mapping of enum name to {desc, values}")
        return enums
    for ename, body in raw.items():
        name = check.name(ename, "enums", "enum name", LOWER_NAME, "lower_snake_case")
        if name is None:
            continue
        where = f"enum {name}"
        if not check.mapping(body, where, ("values",), ("desc", "width")):
            continue
        values = body["values"]
        if not isinstance(values, dict) or not values:
            check.error(where, "values must be a non-empty mapping of NAME: value")
            continue
        items: list[tuple[str, int]] = []
        for vname, value in values.items():
            vn = check.name(vname, where, "value name", UPPER_NAME, "UPPER_SNAKE_CASE")
            v = check.integer(value, f"{where}: {vname}", "value")
            if vn is not None and v is not None:
                items.append((vn, v))
        check.unique([(str(v), f"{where}: {n}") for n, v in items], "value")
        needed = max(1, max((v for _, v in items), default=0).bit_length())
        width = needed
        explicit = "width" in body
        if explicit:
            w = check.integer(body["width"], where, "width", minimum=1)
            if w is not None:
                if w < needed:
                    check.error(where, f"width {w} is too narrow for value {max(v for _, v in items)}")
                width = max(w, needed)
        enums.append(Enum(name, check.text(body.get("desc"), where, "desc"), items, width, explicit))
    return enums


def parse_layout_field(check: Checker, raw: Any, layout: str, kind: str, size: int, i: int) -> Optional[LayoutField]:
    """One field of a byte layout ({name, byte, width}) or of a bit layout ({name, bits})."""
    where = item_where(f"layout {layout}: field", raw, i)
    required = ("name", "byte", "width") if kind == "bytes" else ("name", "bits")
    if not check.mapping(raw, where, required, ("desc", "enum")):
        return None
    name = check.name(raw["name"], where, "field name", LOWER_NAME, "lower_snake_case")
    if name is None:
        return None
    where = f"layout {layout}: field {name}"
    check_keyword(check, where, name, "field name")
    if kind == "bytes":
        byte = check.integer(raw["byte"], where, "byte")
        width = raw["width"]
        if width not in (8, 16, 32, 64):
            check.error(where, f"width must be 8, 16, 32 or 64, got {width!r}")
            return None
        if byte is None:
            return None
        if byte % (width // 8):
            check.error(where, f"byte {byte} is not aligned to the field's {width // 8} bytes")
            return None
        if byte + width // 8 > size:
            check.error(where, f"bytes {byte}..{byte + width // 8 - 1} run past the layout's {size} bytes")
            return None
        lsb = 8 * byte
    else:
        bits = parse_bits(raw["bits"])
        if bits is None:
            check.error(where, f"bits {raw['bits']!r} must be \"msb:lsb\" (msb >= lsb) or a bit number")
            return None
        msb, lsb = bits
        if msb >= 8 * size:
            check.error(where, f"bits {bits_text(msb, lsb)} are outside the layout's {8 * size} bits")
            return None
        width = msb - lsb + 1
    enum = raw.get("enum")
    if enum is not None and not isinstance(enum, str):
        check.error(where, f"enum must be an enum name, got {enum!r}")
        return None
    return LayoutField(name, lsb, width, check.text(raw.get("desc"), where, "desc"), enum)


def parse_layout(check: Checker, raw: Any, i: int) -> Optional[Layout]:
    """Parse and check one layout."""
    where = item_where("layout", raw, i)
    if not check.mapping(raw, where, ("name", "size"), ("desc", "fields", "bits")):
        return None
    name = check.name(raw["name"], where, "layout name", LOWER_NAME, "lower_snake_case")
    if name is None:
        return None
    where = f"layout {name}"
    check_keyword(check, where, name, "layout name (a C++ namespace)", sv=False)
    if ("fields" in raw) == ("bits" in raw):
        check.error(where, "needs exactly one of 'fields' (byte fields) and 'bits' (bit fields of one word)")
        return None
    kind = "bytes" if "fields" in raw else "bits"
    size = check.integer(raw["size"], where, "size", minimum=1)
    if size is None:
        return None
    if kind == "bits" and size not in (1, 2, 4, 8):
        check.error(where, f"size of a bit layout must be 1, 2, 4 or 8 bytes (one word), got {size}")
        return None
    raw_fields = raw["fields" if kind == "bytes" else "bits"]
    if not isinstance(raw_fields, list) or not raw_fields:
        check.error(where, "fields must be a non-empty list")
        return None
    fields = [f for f in (parse_layout_field(check, rf, name, kind, size, j) for j, rf in enumerate(raw_fields)) if f]
    check.unique([(f.name, f"{where}: field {f.name}") for f in fields], "field name")
    unit = "bytes" if kind == "bytes" else "bits"
    for a, b in overlaps([(f.lsb, f.msb + 1, f.name) for f in fields]):
        check.error(where, f"fields {a} and {b} overlap ({unit})")
    fields.sort(key=lambda f: f.lsb)
    return Layout(name, check.text(raw.get("desc"), where, "desc"), size, kind, fields)


def settle_enum_widths(check: Checker, enums: list[Enum], layouts: list[Layout]) -> None:
    """Check every enum reference; give an enum without an explicit width the width of the fields
    that use it when they all agree (so the struct members can have the enum type)."""
    by_name = {e.name: e for e in enums}
    for layout in layouts:
        for f in layout.fields:
            if f.enum is None:
                continue
            where = f"layout {layout.name}: field {f.name}"
            enum = by_name.get(f.enum)
            if enum is None:
                check.error(where, f"enum '{f.enum}' does not exist (enums: {', '.join(sorted(by_name)) or 'none'})")
                continue
            too_big = [n for n, v in enum.values if v >> f.width]
            if too_big:
                check.error(where, f"enum {enum.name} value {too_big[0]} does not fit in the field's {f.width} bits")
                continue
            enum.users.append(f"{layout.name}.{f.name}")
    for layout in layouts:
        for f in layout.fields:
            enum = by_name.get(f.enum) if f.enum else None
            if enum is not None and not enum.explicit_width:
                widths = {g.width for lay in layouts for g in lay.fields if g.enum == enum.name}
                if len(widths) == 1:
                    enum.width = widths.pop()


def parse_layouts(data: Any, label: str, errors: list[str]) -> Optional[tuple[list[Enum], list[Layout]]]:
    """Parse and validate the enums and layouts; None when they have errors."""
    check = Checker(label, errors)
    n_before = len(errors)
    if not check.mapping(data, "", (), ("enums", "layouts")):
        return None
    enums = parse_enums(check, data.get("enums", {}))
    layouts: list[Layout] = []
    raw_layouts = data.get("layouts", [])
    if not isinstance(raw_layouts, list):
        check.error("", "layouts must be a list")
    else:
        layouts = [lay for lay in (parse_layout(check, raw, i) for i, raw in enumerate(raw_layouts)) if lay]
    check.unique([(lay.name, f"layout {lay.name}") for lay in layouts], "layout name")
    settle_enum_widths(check, enums, layouts)
    if len(errors) > n_before:
        return None
    return enums, layouts


# ------------------------------------------------------------------------------------------------
# Names of the generated identifiers


def camel(name: str) -> str:
    """UPPER_SNAKE or lower_snake as CamelCase: GOTO_TB -> GotoTb, event_type -> EventType."""
    return "".join(part[:1].upper() + part[1:].lower() for part in name.split("_") if part)


def cpp_uint(bits: int) -> str:
    """The smallest fixed-width unsigned C++ type of at least `bits` bits (bool for one bit)."""
    for n in (8, 16, 32, 64):
        if bits <= n:
            return f"uint{n}_t"
    raise AssertionError(bits)


def hex_literal(value: int, bits: int) -> str:
    """A zero-padded hex digit string for a `bits`-bit value."""
    return f"{value:0{(bits + 3) // 4}x}"


def sv_literal(value: int, bits: int) -> str:
    return f"{bits}'h{hex_literal(value, bits)}"


class SymbolTable:
    """Generated identifiers per (language, scope): two YAML items that map to one is an error."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        self.seen: dict[tuple[str, str, str], str] = {}

    def add(self, lang: str, scope: str, name: str, origin: str) -> None:
        key = (lang, scope, name)
        if key not in self.seen:
            self.seen[key] = origin
            return
        where = f" in {scope}" if scope else ""
        other = self.seen[key]
        who = f"{origin} and {other} both generate" if other != origin else f"{origin} generates twice"
        self.errors.append(f"{who} the {lang} name {name}{where}: rename one")


# ------------------------------------------------------------------------------------------------
# SystemVerilog


@dataclass
class SvConst:
    name: str
    type: str
    value: str   # the SystemVerilog expression
    bits: int    # the width of the check literal
    number: int  # the value, for the check module
    comment: str = ""


def sv_sections(m: Model) -> list[tuple[str, str, list[SvConst]]]:
    """The localparams of the package, in sections: (title, the YAML item, constants)."""
    r = m.regs
    P = r.name.upper()
    aw = f"{P}_ADDR_W"
    addr_t = f"logic [{aw}-1:0]"

    def off(name: str, value: int, comment: str = "") -> SvConst:
        return SvConst(name, addr_t, sv_literal(value, r.addr_width), r.addr_width, value, comment)

    def num(name: str, value: int, comment: str = "") -> SvConst:
        return SvConst(name, "int", str(value), 32, value, comment)

    def vec(name: str, value: int, bits: int, comment: str = "") -> SvConst:
        return SvConst(name, f"logic [{bits - 1}:0]", sv_literal(value, bits), bits, value, comment)

    major, minor, patch = r.version
    sections = [("Identification and the register space", f"{r.source}: the map's name, id, version and size", [
        vec(f"{P}_MAP_ID", r.ident, 32, "the ID register's value"),
        vec(f"{P}_MAP_VERSION", r.version_word, 32, "the VERSION register's value"),
        num(f"{P}_MAP_VERSION_MAJOR", major),
        num(f"{P}_MAP_VERSION_MINOR", minor),
        num(f"{P}_MAP_VERSION_PATCH", patch),
        num(f"{P}_DATA_W", r.data_width, "AXI4-Lite data width"),
        num(aw, r.addr_width, "register address bits"),
        SvConst(f"{P}_MAP_SIZE", "int", str(r.size), 32, r.size, f"bytes of register space ({r.size:#x})"),
    ])]
    for reg in r.registers:
        consts = [off(f"{P}_{reg.name}_OFFSET", reg.offset)]
        if reg.width == 64:
            consts += [off(f"{P}_{reg.name}_LO_OFFSET", reg.offset), off(f"{P}_{reg.name}_HI_OFFSET", reg.offset + 4)]
        consts.append(vec(f"{P}_{reg.name}_RESET", reg.reset, reg.width))
        for f in reg.fields:
            consts += [num(f"{P}_{reg.name}_{f.name}_LSB", f.lsb),
                       num(f"{P}_{reg.name}_{f.name}_WIDTH", f.width),
                       vec(f"{P}_{reg.name}_{f.name}_MASK", f.mask, reg.width)]
        title = with_desc(f"{reg.name} ({reg.width}-bit, {reg.access})", reg.desc)
        sections.append((title, f"{r.source}: register {reg.name}", consts))
    if r.counters:
        consts = [off(f"{P}_CNT_BASE", r.counter_base),
                  num(f"{P}_CNT_COUNT", len(r.counters)),
                  num(f"{P}_CNT_PKT_FIRST", r.pkt_first, "index of the first per-packet-type counter"),
                  num(f"{P}_CNT_PKT_COUNT", len(r.packet_types))]
        for c in r.counters:
            consts += [num(f"{P}_CNT_{c.name}_IDX", c.index, c.desc), off(f"{P}_CNT_{c.name}_OFFSET", c.offset)]
        sections.append(("Counters: 64-bit, read-only, one after another (index i at BASE + 8 * i)",
                         f"{r.source}: counters", consts))
    for lay in m.layouts:
        L = f"{P}_{lay.name.upper()}"
        consts = [num(f"{L}_SIZE", lay.size, "bytes")]
        for f in lay.fields:
            F = f"{L}_{f.name.upper()}"
            if lay.kind == "bytes":
                consts += [num(f"{F}_BYTE", f.byte), num(f"{F}_WIDTH", f.width), num(f"{F}_LSB", f.lsb)]
            else:
                consts += [num(f"{F}_LSB", f.lsb), num(f"{F}_WIDTH", f.width),
                           vec(f"{F}_MASK", ((1 << f.width) - 1) << f.lsb, 8 * lay.size)]
        sections.append((with_desc(f"Layout {lay.name} ({lay.size} bytes)", lay.desc),
                         f"{m.layouts_source}: layout {lay.name}", consts))
    return sections


def layout_slots(lay: Layout) -> list[tuple[int, int, Optional[LayoutField]]]:
    """The layout's bits as (lsb, width, field or None for reserved), from bit 0 up."""
    slots = []
    pos = 0
    for f in lay.fields:
        if f.lsb > pos:
            slots.append((pos, f.lsb - pos, None))
        slots.append((f.lsb, f.width, f))
        pos = f.msb + 1
    if pos < 8 * lay.size:
        slots.append((pos, 8 * lay.size - pos, None))
    return slots


def position_text(lay: Layout, lsb: int, width: int) -> str:
    """Where a field is, for comments: "bytes 0..7", "byte 8", "bits 3:0", "bit 14"."""
    if lay.kind == "bytes":
        first, last = lsb // 8, (lsb + width) // 8 - 1
        return f"bytes {first}..{last}" if last > first else f"byte {first}"
    return f"bits {lsb + width - 1}:{lsb}" if width > 1 else f"bit {lsb}"


def field_desc(f: LayoutField) -> str:
    """A layout field's description for comments (its enum's name when it has none)."""
    return f.desc or (f"enum {f.enum}" if f.enum else "")


def sv_type(bits: int) -> str:
    return "logic" if bits == 1 else f"logic [{bits - 1}:0]"


def sv_view(m: Model) -> dict:
    """The context of the SystemVerilog templates."""
    P = m.regs.name.upper()
    p = m.regs.name
    enums = []
    for e in m.enums:
        enums.append({
            "name": f"{p}_{e.name}_e", "width": e.width, "desc": e.desc,
            "values": [(f"{P}_{e.name.upper()}_{n}", f"{e.width}'d{v}") for n, v in e.values],
        })
    structs = []
    rng = random.Random(0x5854)
    for lay in m.layouts:
        members = []
        for lsb, width, f in reversed(layout_slots(lay)):
            where = position_text(lay, lsb, width)
            if f is None:
                name = f"{RESERVED_PREFIX}{lsb // 8 if lay.kind == 'bytes' else lsb}"
                members.append({"type": sv_type(width), "name": name, "comment": f"{where}: reserved"})
                continue
            enum = m.enum(f.enum) if f.enum else None
            typ = f"{p}_{enum.name}_e" if enum and enum.width == f.width else sv_type(width)
            members.append({"type": typ, "name": f.name, "comment": f"{where}: {field_desc(f)}".rstrip(": ")})
        pattern = rng.getrandbits(8 * lay.size)  # check module: one value, every field extracted
        checks = [(f.name, sv_literal((pattern >> f.lsb) & ((1 << f.width) - 1), f.width)) for f in lay.fields]
        structs.append({"name": f"{p}_{lay.name}_t", "layout": lay, "bits": 8 * lay.size, "members": members,
                        "pattern": sv_literal(pattern, 8 * lay.size), "checks": checks,
                        "signal": f"{lay.name}_s"})
    return {"package": f"{p}_reg_pkg", "sections": sv_sections(m), "enums": enums, "structs": structs}


# ------------------------------------------------------------------------------------------------
# C++


def cpp_view(m: Model) -> dict:
    """The context of the C++ header template."""
    r = m.regs
    regs = []
    for reg in r.registers:
        t = "uint32_t" if reg.width == 32 else "uint64_t"
        regs.append({
            "reg": reg, "ns": reg.name.lower(), "type": t,
            "reset": f"0x{hex_literal(reg.reset, reg.width)}",
            "access": camel(reg.access),
            "fields": [{"f": f, "name": "k" + camel(f.name), "mask": f"0x{hex_literal(f.mask, reg.width)}"}
                       for f in reg.fields],
        })
    enums = []
    for e in m.enums:
        enums.append({"e": e, "name": camel(e.name), "type": cpp_uint(e.width),
                      "values": [(camel(n), v, n) for n, v in e.values]})
    layouts = []
    for lay in m.layouts:
        word = cpp_uint(8 * lay.size) if lay.kind == "bits" else None
        fields = []
        for f in lay.fields:
            enum = camel(f.enum) if f.enum else None
            storage = cpp_uint(f.width)
            if lay.kind == "bits":
                member = enum or ("bool" if f.width == 1 else storage)
            else:
                member = enum or storage
            fields.append({"f": f, "const": "k" + camel(f.name), "storage": storage, "member": member,
                           "where": position_text(lay, f.lsb, f.width),
                           "desc": field_desc(f),
                           "enum": enum, "mask": f"0x{hex_literal(((1 << f.width) - 1) << f.lsb, 8 * lay.size)}"})
        layouts.append({"lay": lay, "ns": lay.name, "struct": camel(lay.name), "word": word, "fields": fields})
    counters = [{"c": c, "const": f"k{camel(c.name)}Offset"} for c in r.counters]
    return {"regs": regs, "enums": enums, "layouts": layouts, "counters": counters,
            "packet_type_lines": wrap_items([f'"{t}"' for t in r.packet_types], 96),
            "namespace": f"{r.name}::regs"}


def wrap_items(items: list[str], width: int) -> list[str]:
    """Comma-separated items in lines of at most `width` characters (the last without a comma)."""
    lines: list[str] = []
    line = ""
    for i, item in enumerate(items):
        piece = item + ("," if i + 1 < len(items) else "")
        if line and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    if line:
        lines.append(line)
    return lines


def check_generated_names(m: Model, errors: list[str]) -> None:
    """Two YAML items must not generate the same identifier (in SystemVerilog or in C++)."""
    table = SymbolTable(errors)
    regs, lays = m.regs.source, m.layouts_source
    sv = sv_view(m)
    for _title, origin, consts in sv["sections"]:
        for c in consts:
            table.add("SystemVerilog", "", c.name, origin)
    for e, src in zip(sv["enums"], m.enums):
        table.add("SystemVerilog", "", e["name"], f"{lays}: enum {src.name}")
        for (name, _), (vname, _) in zip(e["values"], src.values):
            table.add("SystemVerilog", "", name, f"{lays}: enum {src.name} value {vname}")
    for st in sv["structs"]:
        table.add("SystemVerilog", "", st["name"], f"{lays}: layout {st['layout'].name}")

    cpp = cpp_view(m)
    own = "regtool's own definitions"
    for name in ("Access", "Field", "Field32", "Field64", "Reg32", "Reg64", "RegInfo", "Counter", "ByteField",
                 "detail", "counters", "kRegisters", "kCounters", "kPacketTypes", "kMapId", "kMapVersion",
                 "kMapVersionMajor", "kMapVersionMinor", "kMapVersionPatch", "kMapSize", "kDataWidth", "to_string"):
        table.add("C++", "", name, own)
    for reg in cpp["regs"]:
        origin = f"{regs}: register {reg['reg'].name}"
        table.add("C++", "", reg["ns"], origin)
        for name in ("kOffset", "kLoOffset", "kHiOffset", "kReset", "kAccess", "kWidth", "kReg"):
            table.add("C++", reg["ns"], name, origin)
        for f in reg["fields"]:
            table.add("C++", reg["ns"], f["name"], f"{origin} field {f['f'].name}")
    for e in cpp["enums"]:
        origin = f"{lays}: enum {e['e'].name}"
        table.add("C++", "", e["name"], origin)
        for cname, _, vname in e["values"]:
            table.add("C++", e["name"], cname, f"{origin} value {vname}")
    for lay in cpp["layouts"]:
        origin = f"{lays}: layout {lay['lay'].name}"
        table.add("C++", "", lay["ns"], origin)
        table.add("C++", "", lay["struct"], origin)
        table.add("C++", lay["ns"], "kSize", origin)
        for name in ("load", "store", "pack", "unpack"):
            table.add("C++", lay["struct"], name, f"{origin} (its {name} function)")
        for f in lay["fields"]:
            table.add("C++", lay["ns"], f["const"], f"{origin} field {f['f'].name}")
            table.add("C++", lay["struct"], f["f"].name, f"{origin} field {f['f'].name}")
    for name in ("kBase", "kCount", "kPktFirst", "kPktCount"):
        table.add("C++", "counters", name, f"{regs}: counters")
    for c in cpp["counters"]:
        table.add("C++", "counters", c["const"], f"{regs}: counter {c['c'].name}")


# ------------------------------------------------------------------------------------------------
# The register block's RTL (rtl/regs/<name>_reg_top.sv): model::RegBlock in SystemVerilog
#
# The access types say how software sees a register; how the hardware sees it follows from its
# access type and, for the registers the block itself implements (identification, control,
# status, interrupts, its own counters), from its name:
#   ID, VERSION                  ro: their reset value
#   PARAMS<n>                    ro: each field is a module parameter (named like the field)
#   STATUS                       ro: BUSY, DONE (the block's state) and ERR_* (latched error_i)
#   IRQ_ENABLE, IRQ_STATUS       rw, w1c: fields DONE, ERROR, WATERMARK; irq_o
#   CTRL                         rw: START and SOFT_RESET (w1s) drive start_o / soft_reset_o
#   counters CYCLES, BUSY_CYCLES counted by the block (when the map has them)
# and for every other register:
#   ro                           an input <reg>_i (no fields)
#   rw                           stored; an output <reg>_o, or <field>_o per rw field
#   w1s fields (1 bit)           a one-cycle pulse <field>_o
#   other counters               read from the input vector counters_i (counter i: bits 64 i + 63 : 64 i)
# Anything else (a w1c register other than IRQ_STATUS, a ro register with fields, ...) has no
# hardware meaning here and is a validation error.

RTL_CONST_REGS = ("ID", "VERSION")
RTL_PARAMS_REG = re.compile(r"^PARAMS[0-9]*$")
RTL_IRQ_CAUSES = ("DONE", "ERROR", "WATERMARK")
RTL_OWN_COUNTERS = ("CYCLES", "BUSY_CYCLES")


def rtl_view(m: Model, errors: list[str]) -> dict:
    """The context of the register block template; appends to `errors` what it cannot implement."""
    r = m.regs
    check = Checker(r.source, errors)
    P, p = r.name.upper(), r.name
    pkg = f"{p}_reg_pkg"
    aw = r.addr_width

    def const(name: str) -> str:
        return f"{pkg}::{P}_{name}"

    def sl(reg: Register, hi: bool) -> str:
        """The part-select of a word of a 64-bit register ("" for a 32-bit one)."""
        return "" if reg.width == 32 else ("[63:32]" if hi else "[31:0]")

    def words(reg: Register) -> list[tuple[str, str, bool]]:
        """(offset constant, part-select, high word) of each word of `reg`."""
        if reg.width == 32:
            return [(const(f"{reg.name}_OFFSET"), "", False)]
        return [(const(f"{reg.name}_LO_OFFSET"), "[31:0]", False), (const(f"{reg.name}_HI_OFFSET"), "[63:32]", True)]

    by_name = {reg.name: reg for reg in r.registers}

    def need(name: str, access: str, fields: tuple[str, ...]) -> Optional[Register]:
        reg = by_name.get(name)
        if reg is None:
            check.error("", f"the register block RTL needs a 32-bit {access} register {name}")
            return None
        if reg.access != access or reg.width != 32:
            check.error(f"register {name}", f"the register block RTL needs it 32-bit and {access}")
            return None
        have = {f.name for f in reg.fields}
        for f in fields:
            if f not in have:
                check.error(f"register {name}", f"the register block RTL needs a field {f}")
        return reg

    ctrl = need("CTRL", "rw", ("START", "SOFT_RESET"))
    status = need("STATUS", "ro", ("BUSY", "DONE"))
    irq_en = need("IRQ_ENABLE", "rw", RTL_IRQ_CAUSES)
    irq_st = need("IRQ_STATUS", "w1c", RTL_IRQ_CAUSES)
    if ctrl is not None:
        for f in ctrl.fields:
            if f.name in ("START", "SOFT_RESET") and f.access != "w1s":
                check.error(f"register CTRL: field {f.name}", "must be w1s (the register block RTL pulses it)")
    for reg in (irq_en, irq_st):
        if reg is not None and {f.name for f in reg.fields} != set(RTL_IRQ_CAUSES):
            check.error(f"register {reg.name}", f"the register block RTL needs exactly the fields {', '.join(RTL_IRQ_CAUSES)}")
    if irq_en is not None and irq_st is not None:
        if [(f.name, f.lsb, f.width) for f in irq_en.fields] != [(f.name, f.lsb, f.width) for f in irq_st.fields]:
            check.error("register IRQ_ENABLE", "its fields must sit where IRQ_STATUS's do (irq_o = |(IRQ_STATUS & IRQ_ENABLE))")
    err_fields = []
    if status is not None:
        for f in status.fields:
            if f.name in ("BUSY", "DONE"):
                if f.width != 1:
                    check.error(f"register STATUS: field {f.name}", "must be 1 bit wide")
            elif f.name.startswith("ERR_"):
                err_fields.append(f)
            else:
                check.error(f"register STATUS: field {f.name}",
                            "the register block RTL knows BUSY, DONE and ERR_* (error_i) only")

    params, params_regs, consts, inputs, stored, pulses, outputs = [], [], [], [], [], [], []
    reads: list[tuple[str, str, str]] = []  # (offset expression, value, register name)
    for reg in r.registers:
        where = f"register {reg.name}"
        lname = reg.name.lower()
        if reg.name in RTL_CONST_REGS:
            if reg.access != "ro":
                check.error(where, "the register block RTL reads it as a constant: it must be ro")
            consts.append(reg)
            reads.append((const(f"{reg.name}_OFFSET"), const(f"{reg.name}_RESET"), reg.name))
        elif RTL_PARAMS_REG.match(reg.name):
            if reg.access != "ro" or reg.width != 32 or not reg.fields:
                check.error(where, "a PARAMS register must be 32-bit, ro, with a field per build parameter")
                continue
            terms = []
            for f in reg.fields:
                params.append({"name": f.name, "default": f.reset, "reg": reg.name, "bits": bits_text(f.msb, f.lsb),
                               "desc": f.desc})
                terms.append(f"(({f.name} << {const(f'{reg.name}_{f.name}_LSB')}) & {const(f'{reg.name}_{f.name}_MASK')})")
            value = f"{camel(reg.name)}Value"
            params_regs.append({"name": value, "terms": terms})
            reads.append((const(f"{reg.name}_OFFSET"), value, reg.name))
        elif reg is status:
            reads.append((const("STATUS_OFFSET"), "status_rd", reg.name))
        elif reg is irq_st:
            reads.append((const("IRQ_STATUS_OFFSET"), "irq_status_wr", reg.name))
        elif reg.access == "ro":
            if reg.fields:
                check.error(where, "the register block RTL reads a ro register from an input: it cannot have fields")
                continue
            inputs.append({"port": f"{lname}_i", "width": reg.width, "desc": reg.desc})
            for off, part, _hi in words(reg):
                reads.append((off, f"{lname}_i{part}", reg.name))
        elif reg.access == "rw":
            rw_fields, w1s_fields = [], []
            for f in reg.fields:
                if f.access == "rw":
                    rw_fields.append(f)
                elif f.access == "w1s" and f.width == 1 and f.msb < 32:
                    w1s_fields.append(f)
                else:
                    check.error(f"{where}: field {f.name}",
                                f"the register block RTL has no meaning for a {f.width}-bit {f.access} field of a rw register")
            if reg.fields:
                mask = [const(f"{reg.name}_{f.name}_MASK") for f in rw_fields] or [f"{reg.width}'h0"]
            else:
                mask = []
            q = lname
            entry = {"reg": reg, "q": q, "width": reg.width, "mask": f"{camel(reg.name)}Mask" if mask else "",
                     "mask_expr": mask, "reset": const(f"{reg.name}_RESET"),
                     "stored": bool(rw_fields) or not reg.fields, "words": words(reg)}
            stored.append(entry)
            for f in w1s_fields:
                pulses.append({"name": f.name.lower(), "offset": const(f"{reg.name}_OFFSET"),
                               "mask": const(f"{reg.name}_{f.name}_MASK"), "desc": f.desc or f"{reg.name}.{f.name}"})
            if reg is not irq_en:
                if not reg.fields:
                    outputs.append({"port": f"{lname}_o", "width": reg.width, "expr": f"{q}_q", "desc": reg.desc})
                for f in rw_fields:
                    outputs.append({"port": f"{f.name.lower()}_o", "width": f.width,
                                    "expr": f"{q}_q[{bits_text(f.msb, f.lsb)}]", "desc": f"{reg.name}.{f.name}" +
                                    (f": {f.desc}" if f.desc else "")})
            for off, part, _hi in words(reg):
                reads.append((off, f"{q}_d{part}" if entry["stored"] else "32'h0", reg.name))
        else:
            check.error(where, f"the register block RTL has no hardware source for a {reg.access} register")

    own = []
    cnt_reads = []
    for c in r.counters:
        own_name = c.name.lower() if c.name in RTL_OWN_COUNTERS else None
        if own_name:
            own.append({"name": own_name, "index": c.index, "busy": c.name == "BUSY_CYCLES"})
        lo_src = f"{own_name}_q[31:0]" if own_name else f"counters_i[{64 * c.index + 31}:{64 * c.index}]"
        hi_src = f"{own_name}_q[63:32]" if own_name else f"counters_i[{64 * c.index + 63}:{64 * c.index + 32}]"
        off = const(f"CNT_{c.name}_OFFSET")
        cnt_reads.append((off, lo_src, c.name))
        cnt_reads.append((f"{off} + {aw}'h4", hi_src, c.name))

    # Port names must be unique (and not SystemVerilog keywords).
    fixed = ["clk_i", "rst_ni", "start_o", "soft_reset_o", "irq_o", "done_i", "watermark_i", "error_i", "counters_i"]
    fixed += [f"s_axil_{n}" for n in ("awaddr_i", "awvalid_i", "awready_o", "wdata_i", "wstrb_i", "wvalid_i",
                                      "wready_o", "bresp_o", "bvalid_o", "bready_i", "araddr_i", "arvalid_i",
                                      "arready_o", "rdata_o", "rresp_o", "rvalid_o", "rready_i")]
    table = SymbolTable(errors)
    scope = f"module {p}_reg_top"
    for name in fixed:
        table.add("SystemVerilog", scope, name, "the register block's own ports")
    for pl in pulses:
        if pl["name"] not in ("start", "soft_reset"):
            table.add("SystemVerilog", scope, f"{pl['name']}_o", f"{r.source}: w1s field {pl['name'].upper()}")
    for port in inputs + outputs:
        table.add("SystemVerilog", scope, port["port"], f"{r.source}: {port['desc'] or port['port']}")
    for prm in params:
        table.add("SystemVerilog", scope, prm["name"], f"{r.source}: register {prm['reg']} field {prm['name']}")

    def port(direction: str, width: int, name: str, comment: str = "") -> tuple[str, str, str]:
        typ = f"logic [{width - 1}:0]" if isinstance(width, int) and width > 1 else (
            "logic" if width == 1 else f"logic [{width}-1:0]")
        return (f"{direction} {typ}", name, comment)

    axil = [port("input ", 32, "s_axil_awaddr_i"), port("input ", 1, "s_axil_awvalid_i"),
            port("output", 1, "s_axil_awready_o"), port("input ", 32, "s_axil_wdata_i"),
            port("input ", 4, "s_axil_wstrb_i"), port("input ", 1, "s_axil_wvalid_i"),
            port("output", 1, "s_axil_wready_o"), port("output", 2, "s_axil_bresp_o"),
            port("output", 1, "s_axil_bvalid_o"), port("input ", 1, "s_axil_bready_i"),
            port("input ", 32, "s_axil_araddr_i"), port("input ", 1, "s_axil_arvalid_i"),
            port("output", 1, "s_axil_arready_o"), port("output", 32, "s_axil_rdata_o"),
            port("output", 2, "s_axil_rresp_o"), port("output", 1, "s_axil_rvalid_o"),
            port("input ", 1, "s_axil_rready_i")]
    control = [port("output", 1, f"{pl['name']}_o", f"pulse: {pl['desc']}") for pl in pulses]
    control += [port("output", 1, "irq_o", "|(IRQ_STATUS & IRQ_ENABLE)"),
                port("input ", 1, "done_i", "the trace ended and every record is written"),
                port("input ", 1, "watermark_i", "records waiting reached OUT_WATERMARK"),
                port("input ", 32, "error_i", "error causes, in STATUS's layout (its ERR_* bits)")]
    groups = [("Clock, synchronous active-low reset", [port("input ", 1, "clk_i"), port("input ", 1, "rst_ni")]),
              ("AXI4-Lite slave", axil), ("Control and state", control)]
    if outputs:
        groups.append(("Configuration: rw registers and fields",
                       [port("output", o["width"], o["port"], o["desc"]) for o in outputs]))
    if inputs:
        groups.append(("Status: ro registers", [port("input ", i["width"], i["port"], i["desc"]) for i in inputs]))
    if r.counters:
        groups.append(("Counters: counter i (docs/registers.md) in bits 64 i + 63 : 64 i",
                       [port("input ", f"64*{len(r.counters)}", "counters_i")]))

    return {
        "port_groups": groups,
        "module": f"{p}_reg_top", "pkg": pkg, "P": P, "aw": aw, "const": const,
        "params": params, "params_regs": params_regs, "inputs": inputs, "outputs": outputs, "stored": stored,
        "pulses": pulses, "own_counters": own, "n_counters": len(r.counters), "reads": reads,
        "cnt_reads": cnt_reads, "err_mask": [const(f"STATUS_{f.name}_MASK") for f in err_fields] or ["32'h0"],
        "err_fields": [f.name for f in err_fields],
        "unused_counters": [f"counters_i[{64 * o['index'] + 63}:{64 * o['index']}]" for o in own],
    }


# ------------------------------------------------------------------------------------------------
# Rendering


def md_escape(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=False)
    env.filters["md"] = md_escape
    env.filters["hex"] = lambda v, bits=0: f"0x{hex_literal(v, bits)}" if bits else f"{v:#x}"
    env.filters["bits"] = lambda f: bits_text(f.msb, f.lsb)
    env.filters["camel"] = camel
    env.filters["with_desc"] = with_desc
    env.globals["max_len"] = lambda names: max((len(n) for n in names), default=0)
    env.globals["slots"] = layout_slots
    return env


def output_paths(m: Model) -> dict[str, str]:
    """Output path (relative to the output root) -> template."""
    n = m.regs.name
    return {
        f"rtl/pkg/{n}_reg_pkg.sv": "reg_pkg.sv.j2",
        f"driver/include/{n}/regs.hpp": "regs.hpp.j2",
        "docs/registers.md": "registers.md.j2",
        "docs/layouts.md": "layouts.md.j2",
        f"rtl/regs/{n}_reg_top.sv": "reg_top.sv.j2",
    }


def render(m: Model) -> dict[str, str]:
    """Every generated file: relative path -> text."""
    env = make_env()
    ctx = {"m": m, "r": m.regs, "tool": TOOL, "sv": sv_view(m), "cpp": cpp_view(m), "v": rtl_view(m, []),
           "sources": f"{m.regs.source} and {m.layouts_source}"}
    return {path: env.get_template(tpl).render(ctx) for path, tpl in output_paths(m).items()}


def render_sv_check(m: Model, package_path: str) -> str:
    """A module that compares every constant, enum value and struct member of the package with
    the value computed here (Yosys proves its output all ones: tests/regtool/yosys_check.sh)."""
    env = make_env()
    sv = sv_view(m)
    return env.get_template("reg_pkg_check.sv.j2").render({"m": m, "sv": sv, "tool": TOOL, "package_path": package_path})


def load_model(regs_path: Path, layouts_path: Path) -> Model:
    """Read and validate both inputs; raises ValidationError listing every problem."""
    errors: list[str] = []
    regs_label, layouts_label = display_path(regs_path), display_path(layouts_path)
    regmap = layouts = None
    try:
        regmap = parse_regmap(load_yaml(regs_path, regs_label), regs_label, errors)
    except ValidationError as e:
        errors += e.messages
    try:
        layouts = parse_layouts(load_yaml(layouts_path, layouts_label), layouts_label, errors)
    except ValidationError as e:
        errors += e.messages
    if errors or regmap is None or layouts is None:
        raise ValidationError(errors or ["invalid input"])
    model = Model(regmap, layouts[0], layouts[1], layouts_label)
    check_generated_names(model, errors)
    rtl_view(model, errors)
    if errors:
        raise ValidationError(errors)
    return model


def write_outputs(files: dict[str, str], out_dir: Path) -> list[str]:
    """Write the files under out_dir (only those whose text changed); returns those written."""
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(rel)
    return written


def check_outputs(files: dict[str, str], out_dir: Path) -> list[str]:
    """Regenerate into a temporary directory and diff against out_dir: the diffs (empty: in sync)."""
    diffs = []
    with tempfile.TemporaryDirectory(prefix="regtool-") as tmp:
        write_outputs(files, Path(tmp))
        for rel in files:
            fresh = (Path(tmp) / rel).read_text(encoding="utf-8").splitlines(keepends=True)
            committed_path = out_dir / rel
            if not committed_path.exists():
                diffs.append(f"{rel}: missing (run {TOOL})\n")
                continue
            committed = committed_path.read_text(encoding="utf-8").splitlines(keepends=True)
            if committed != fresh:
                diffs.append("".join(difflib.unified_diff(committed, fresh, f"{rel} (committed)", f"{rel} (generated)")))
    return diffs


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regs", type=Path, default=DEFAULT_REGS, help="register map YAML (default: %(default)s)")
    ap.add_argument("--layouts", type=Path, default=DEFAULT_LAYOUTS, help="layouts YAML (default: %(default)s)")
    ap.add_argument("--out-dir", type=Path, default=ROOT, help="root the outputs go under (default: the repository)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only compare: exit 1 with a diff if an output is stale")
    mode.add_argument("--sv-check", type=Path, metavar="FILE", help="only write the SystemVerilog check module")
    args = ap.parse_args(argv)

    try:
        model = load_model(args.regs, args.layouts)
    except ValidationError as e:
        for msg in e.messages:
            print(f"regtool: error: {msg}", file=sys.stderr)
        return 1

    if args.sv_check:
        pkg = next(p for p in output_paths(model) if p.endswith(".sv"))
        args.sv_check.parent.mkdir(parents=True, exist_ok=True)
        args.sv_check.write_text(render_sv_check(model, pkg), encoding="utf-8")
        return 0
    files = render(model)
    if args.check:
        diffs = check_outputs(files, args.out_dir)
        for d in diffs:
            sys.stdout.write(d)
        if diffs:
            print(f"regtool: {len(diffs)} generated file(s) out of date: run {TOOL} and commit them", file=sys.stderr)
            return 1
        print(f"regtool: {len(files)} generated files up to date")
        return 0
    for rel in write_outputs(files, args.out_dir):
        print(f"regtool: wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
