"""Tests of tools/regtool.py: each validation rule on a minimal bad input, and a minimal good input
that generates every output (which --check then accepts, and rejects once edited; its register
block RTL lints and synthesizes).

Runs under pytest or plain unittest (python3 -m unittest discover -s tests/regtool).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("regtool", ROOT / "tools" / "regtool.py")
regtool = importlib.util.module_from_spec(_spec)
sys.modules["regtool"] = regtool
_spec.loader.exec_module(regtool)

GOOD_REGS: dict[str, Any] = {
    "name": "demo",
    "id": 0x44454D4F,
    "version": {"major": 1, "minor": 2, "patch": 3},
    "size": 0x100,
    "registers": [
        {"name": "ID", "offset": 0x0, "access": "ro", "reset": 0x44454D4F, "desc": "Identification"},
        {"name": "VERSION", "offset": 0x4, "access": "ro", "reset": 0x010203},
        {"name": "CTRL", "offset": 0x8, "access": "rw", "desc": "Control | with a pipe",
         "fields": [{"name": "GO", "bits": "0", "access": "w1s", "desc": "Go"},
                    {"name": "MODE", "bits": "3:1", "reset": 2},
                    {"name": "START", "bits": "4", "access": "w1s"},
                    {"name": "SOFT_RESET", "bits": "5", "access": "w1s"}]},
        {"name": "BASE", "offset": 0x10, "width": 64, "access": "rw",
         "fields": [{"name": "LOW", "bits": "31:4"}, {"name": "HIGH", "bits": "63:32"}]},
        # what the register block RTL needs (and a status register it reads from an input)
        {"name": "STATUS", "offset": 0x40, "access": "ro",
         "fields": [{"name": "BUSY", "bits": "0"}, {"name": "DONE", "bits": "1"}, {"name": "ERR_BAD", "bits": "8"}]},
        {"name": "IRQ_ENABLE", "offset": 0x44, "access": "rw",
         "fields": [{"name": "DONE", "bits": "0"}, {"name": "ERROR", "bits": "1"}, {"name": "WATERMARK", "bits": "2"}]},
        {"name": "IRQ_STATUS", "offset": 0x48, "access": "w1c",
         "fields": [{"name": "DONE", "bits": "0"}, {"name": "ERROR", "bits": "1"}, {"name": "WATERMARK", "bits": "2"}]},
        {"name": "TAIL", "offset": 0x50, "width": 64, "access": "ro"},
    ],
    "counters": {"base": 0x80, "list": [{"name": "CYCLES", "desc": "Cycles"}], "packet_types": ["tip.pge", "psb"]},
}

GOOD_LAYOUTS: dict[str, Any] = {
    "enums": {
        "color": {"desc": "A color", "values": {"RED": 1, "GREEN": 2}},
        "shape": {"desc": "Unused", "values": {"ROUND": 0, "SQUARE": 5}},
    },
    "layouts": [
        {"name": "entry", "desc": "An entry", "size": 16, "fields": [
            {"name": "addr", "byte": 0, "width": 64, "desc": "Address"},
            {"name": "color", "byte": 8, "width": 8, "enum": "color"},
            {"name": "count", "byte": 10, "width": 16},
        ]},
        {"name": "word", "size": 4, "bits": [
            {"name": "color", "bits": "1:0", "enum": "color"},
            {"name": "flag", "bits": "2"},
            {"name": "count", "bits": "15:8"},
        ]},
    ],
}


def run_regtool(regs: Any, layouts: Any, args: tuple[str, ...] = (), out_dir: Optional[Path] = None,
                raw_regs: Optional[str] = None, raw_layouts: Optional[str] = None,
                tmp: Optional[Path] = None) -> tuple[int, str, str, Path]:
    """Write the inputs as regs.yaml and layouts.yaml to `tmp` (default: a new temporary
    directory) and run regtool.main on them: (status, stdout, stderr, tmp)."""
    tmp = tmp or Path(tempfile.mkdtemp(prefix="regtool-test-"))
    regs_path, layouts_path = tmp / "regs.yaml", tmp / "layouts.yaml"
    regs_path.write_text(raw_regs if raw_regs is not None else yaml.safe_dump(regs, sort_keys=False))
    layouts_path.write_text(raw_layouts if raw_layouts is not None else yaml.safe_dump(layouts, sort_keys=False))
    out, err = io.StringIO(), io.StringIO()
    argv = ["--regs", str(regs_path), "--layouts", str(layouts_path), "--out-dir", str(out_dir or tmp / "out"), *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = regtool.main(argv)
    return status, out.getvalue(), err.getvalue(), tmp


# ------------------------------------------------------------------------------------------------
# Validation: (test name, which file, mutation of a deep copy, expected message part)

Mutation = Callable[[dict], None]


def reg(d: dict, name: str) -> dict:
    return next(r for r in d["registers"] if r["name"] == name)


def lay(d: dict, name: str) -> dict:
    return next(x for x in d["layouts"] if x["name"] == name)


REG_CASES: list[tuple[str, Mutation, str]] = [
    ("overlapping_registers",
     lambda d: d["registers"].append({"name": "OTHER", "offset": 0x8, "access": "rw"}),
     "register CTRL and register OTHER overlap"),
    ("register_overlaps_64bit_high_word",
     lambda d: d["registers"].append({"name": "OTHER", "offset": 0x14, "access": "rw"}),
     "register BASE and register OTHER overlap"),
    ("offset_not_word_aligned",
     lambda d: d["registers"].append({"name": "ODD", "offset": 0x22, "access": "rw"}),
     "register ODD: offset 0x22 is not word-aligned"),
    ("64bit_offset_not_8_aligned",
     lambda d: d["registers"].append({"name": "WIDE", "offset": 0x24, "width": 64, "access": "rw"}),
     "register WIDE: offset 0x24 of a 64-bit register is not 8-byte aligned"),
    ("offset_beyond_size",
     lambda d: d["registers"].append({"name": "FAR", "offset": 0x100, "access": "rw"}),
     "register FAR: offset 0x100 + 4 bytes runs past the register space"),
    ("64bit_register_beyond_size",
     lambda d: d["registers"].append({"name": "FAR", "offset": 0xf8 + 8, "width": 64, "access": "rw"}),
     "runs past the register space"),
    ("bad_width",
     lambda d: reg(d, "CTRL").update(width=16),
     "register CTRL: width must be 32 or 64"),
    ("bad_access",
     lambda d: reg(d, "CTRL").update(access="wo"),
     "register CTRL: access 'wo' must be one of"),
    ("bad_field_access",
     lambda d: reg(d, "CTRL")["fields"][0].update(access="rc"),
     "register CTRL: field GO: access 'rc'"),
    ("overlapping_fields",
     lambda d: reg(d, "CTRL")["fields"].append({"name": "MORE", "bits": "2"}),
     "register CTRL: fields MODE and MORE overlap"),
    ("field_out_of_range",
     lambda d: reg(d, "CTRL")["fields"].append({"name": "HIGH", "bits": "32"}),
     "register CTRL: field HIGH: bits 32 are outside the 32-bit register"),
    ("field_crosses_words_of_64bit_register",
     lambda d: reg(d, "BASE")["fields"].__setitem__(1, {"name": "HIGH", "bits": "40:28"}),
     "register BASE: field HIGH: bits 40:28 cross the two words"),
    ("field_bits_malformed",
     lambda d: reg(d, "CTRL")["fields"][1].update(bits="3-1"),
     "register CTRL: field MODE: bits '3-1' must be"),
    ("field_bits_reversed",
     lambda d: reg(d, "CTRL")["fields"][1].update(bits="1:3"),
     "register CTRL: field MODE: bits '1:3' must be"),
    ("reset_does_not_fit",
     lambda d: d["registers"].append({"name": "BIG", "offset": 0x20, "access": "rw", "reset": 1 << 32}),
     "register BIG: reset 0x100000000 does not fit in 32 bits"),
    ("64bit_reset_does_not_fit",
     lambda d: d["registers"].append({"name": "BIG", "offset": 0x20, "width": 64, "access": "rw", "reset": 1 << 64}),
     "does not fit in 64 bits"),
    ("field_reset_does_not_fit",
     lambda d: reg(d, "CTRL")["fields"][1].update(reset=8),
     "register CTRL: field MODE: reset 0x8 does not fit in 3 bit(s)"),
    ("reset_outside_fields",
     lambda d: reg(d, "CTRL").update(reset=0x100),
     "register CTRL: reset 0x100 sets bits outside every field"),
    ("reset_differs_from_field_resets",
     lambda d: reg(d, "CTRL").update(reset=0x2),
     "register CTRL: reset 0x2 differs from the fields' resets (0x4)"),
    ("negative_offset",
     lambda d: reg(d, "CTRL").update(offset=-4),
     "register CTRL: offset must be at least 0"),
    ("duplicate_register_names",
     lambda d: d["registers"].append({"name": "CTRL", "offset": 0x20, "access": "rw"}),
     "duplicate register name 'CTRL'"),
    ("duplicate_field_names",
     lambda d: reg(d, "CTRL")["fields"].append({"name": "GO", "bits": "7"}),
     "register CTRL: field GO: duplicate field name 'GO'"),
    ("lower_case_register_name",
     lambda d: reg(d, "CTRL").update(name="ctrl"),
     "register name 'ctrl' must be UPPER_SNAKE_CASE"),
    ("reserved_prefix",
     lambda d: reg(d, "CTRL")["fields"][0].update(name="RSVD0"),
     "names starting with 'rsvd' are reserved"),
    ("unknown_key",
     lambda d: reg(d, "CTRL").update(offest=4),
     "register CTRL: unknown key 'offest'"),
    ("missing_key",
     lambda d: reg(d, "CTRL").pop("access"),
     "register CTRL: missing key 'access'"),
    ("id_register_differs_from_id",
     lambda d: reg(d, "ID").update(reset=0x1234),
     "register ID: reset 0x1234 differs from id 0x44454d4f"),
    ("version_register_differs_from_version",
     lambda d: d["version"].update(minor=9),
     "register VERSION: reset 0x10203 differs from version 1.9.3"),
    ("size_not_power_of_two",
     lambda d: d.update(size=0x180),
     "size 0x180 must be a power of two"),
    ("data_width_not_32",
     lambda d: d.update(data_width=64),
     "data_width must be 32"),
    ("counters_past_size",
     lambda d: d["counters"].update(base=0xf0),
     "3 counters from 0xf0 end at 0x108, past the register space (size 0x100)"),
    ("counters_overlap_registers",
     lambda d: d["counters"].update(base=0x10),
     "register BASE and the counters (0x10..0x27) overlap"),
    ("counter_base_not_8_aligned",
     lambda d: d["counters"].update(base=0x84),
     "counters: base 0x84 is not 8-byte aligned"),
    ("duplicate_counter_names",
     lambda d: d["counters"]["list"].append({"name": "CYCLES"}),
     "duplicate counter name 'CYCLES'"),
    ("packet_type_counter_clashes",
     lambda d: d["counters"]["packet_types"].append("tip_pge"),
     "duplicate counter name 'PKT_TIP_PGE'"),
    ("packet_type_bad_name",
     lambda d: d["counters"]["packet_types"].append("tip-pge"),
     "packet type 'tip-pge' does not make a counter name"),
    ("generated_cpp_name_clash",
     lambda d: d["registers"].append({"name": "ENTRY", "offset": 0x20, "access": "rw"}),
     "both generate the C++ name entry: rename one"),
    ("yes_as_name",
     lambda d: reg(d, "CTRL")["fields"][0].update(name=True),
     "field name must be a string, got True (quote it"),
    # what the register block RTL (rtl/regs/<name>_reg_top.sv) can implement
    ("rtl_needs_status",
     lambda d: d["registers"].remove(reg(d, "STATUS")),
     "the register block RTL needs a 32-bit ro register STATUS"),
    ("rtl_start_must_pulse",
     lambda d: reg(d, "CTRL")["fields"][2].update(access="rw"),
     "register CTRL: field START: must be w1s"),
    ("rtl_irq_fields_must_match",
     lambda d: reg(d, "IRQ_ENABLE")["fields"][2].update(bits="3"),
     "register IRQ_ENABLE: its fields must sit where IRQ_STATUS's do"),
    ("rtl_unknown_status_field",
     lambda d: reg(d, "STATUS")["fields"].append({"name": "IDLE", "bits": "2"}),
     "register STATUS: field IDLE: the register block RTL knows BUSY, DONE and ERR_*"),
    ("rtl_w1c_register_without_source",
     lambda d: d["registers"].append({"name": "CLEAR", "offset": 0x60, "access": "w1c"}),
     "register CLEAR: the register block RTL has no hardware source for a w1c register"),
    ("rtl_ro_register_with_fields",
     lambda d: d["registers"].append({"name": "INFO", "offset": 0x60, "access": "ro",
                                      "fields": [{"name": "A", "bits": "3:0"}]}),
     "register INFO: the register block RTL reads a ro register from an input: it cannot have fields"),
    ("rtl_wide_w1s_field",
     lambda d: reg(d, "CTRL")["fields"].append({"name": "KICK", "bits": "7:6", "access": "w1s"}),
     "register CTRL: field KICK: the register block RTL has no meaning for a 2-bit w1s field"),
    ("rtl_port_clash",
     lambda d: d["registers"].append({"name": "GO", "offset": 0x60, "access": "rw"}),
     "both generate the SystemVerilog name go_o in module demo_reg_top: rename one"),
]

LAYOUT_CASES: list[tuple[str, Mutation, str]] = [
    ("byte_fields_overlap",
     lambda d: lay(d, "entry")["fields"].append({"name": "extra", "byte": 4, "width": 32}),
     "layout entry: fields addr and extra overlap (bytes)"),
    ("byte_field_beyond_size",
     lambda d: lay(d, "entry")["fields"].append({"name": "tail", "byte": 16, "width": 8}),
     "layout entry: field tail: bytes 16..16 run past the layout's 16 bytes"),
    ("byte_field_misaligned",
     lambda d: lay(d, "entry")["fields"].append({"name": "odd", "byte": 13, "width": 16}),
     "layout entry: field odd: byte 13 is not aligned to the field's 2 bytes"),
    ("byte_field_bad_width",
     lambda d: lay(d, "entry")["fields"].append({"name": "odd", "byte": 12, "width": 24}),
     "layout entry: field odd: width must be 8, 16, 32 or 64"),
    ("bit_fields_overlap",
     lambda d: lay(d, "word")["bits"].append({"name": "more", "bits": "9:4"}),
     "layout word: fields more and count overlap (bits)"),
    ("bit_field_beyond_size",
     lambda d: lay(d, "word")["bits"].append({"name": "high", "bits": "40:32"}),
     "layout word: field high: bits 40:32 are outside the layout's 32 bits"),
    ("bit_layout_bad_size",
     lambda d: lay(d, "word").update(size=3),
     "layout word: size of a bit layout must be 1, 2, 4 or 8 bytes"),
    ("unknown_enum",
     lambda d: lay(d, "entry")["fields"][1].update(enum="colour"),
     "layout entry: field color: enum 'colour' does not exist"),
    ("enum_value_does_not_fit_field",
     lambda d: d["enums"]["color"]["values"].update(BLUE=4),
     "layout word: field color: enum color value BLUE does not fit in the field's 2 bits"),
    ("enum_explicit_width_too_narrow",
     lambda d: d["enums"]["shape"].update(width=2),
     "enum shape: width 2 is too narrow for value 5"),
    ("duplicate_enum_values",
     lambda d: d["enums"]["color"]["values"].update(CRIMSON=1),
     "enum color: CRIMSON: duplicate value '1'"),
    ("duplicate_layout_names",
     lambda d: d["layouts"].append(copy.deepcopy(lay(d, "word"))),
     "duplicate layout name 'word'"),
    ("duplicate_layout_field_names",
     lambda d: lay(d, "entry")["fields"].append({"name": "count", "byte": 12, "width": 32}),
     "layout entry: field count: duplicate field name 'count'"),
    ("fields_and_bits",
     lambda d: lay(d, "word").update(fields=[]),
     "layout word: needs exactly one of 'fields'"),
    ("keyword_field_name",
     lambda d: lay(d, "entry")["fields"][2].update(name="type"),
     "field name 'type' is a reserved word in SystemVerilog"),
    ("keyword_layout_name",
     lambda d: lay(d, "word").update(name="union"),
     "layout name (a C++ namespace) 'union' is a reserved word in C++"),
    ("generated_sv_name_clash",
     lambda d: d["enums"].update(entry_addr={"values": {"BYTE": 1}}),
     "enum entry_addr value BYTE and "),
    ("upper_case_layout_field",
     lambda d: lay(d, "entry")["fields"][0].update(name="Addr"),
     "field name 'Addr' must be lower_snake_case"),
]


class ValidationTests(unittest.TestCase):
    """Every rule fires on a minimal bad input, names the file and the item, and exits 1."""

    def expect_error(self, status: int, err: str, label: str, expected: str) -> None:
        self.assertEqual(status, 1, f"regtool accepted the input; stderr:\n{err}")
        self.assertIn(expected, err)
        self.assertIn(f"{label}: ", err)
        self.assertTrue(err.startswith("regtool: error: "), err)

    def test_good_input_passes(self):
        status, _out, err, _tmp = run_regtool(GOOD_REGS, GOOD_LAYOUTS)
        self.assertEqual(status, 0, err)

    def test_duplicate_yaml_key(self):
        raw = yaml.safe_dump(GOOD_REGS, sort_keys=False) + "size: 0x200\n"
        status, _out, err, tmp = run_regtool(None, GOOD_LAYOUTS, raw_regs=raw)
        self.expect_error(status, err, str(tmp / "regs.yaml"), "duplicate key 'size'")

    def test_duplicate_enum_value_name(self):
        raw = textwrap.dedent("""\
            enums:
              color: {values: {RED: 1, RED: 2}}
            layouts: []
            """)
        status, _out, err, tmp = run_regtool(GOOD_REGS, None, raw_layouts=raw)
        self.expect_error(status, err, str(tmp / "layouts.yaml"), "duplicate key 'RED'")

    def test_invalid_yaml(self):
        status, _out, err, tmp = run_regtool(None, GOOD_LAYOUTS, raw_regs="registers: [\n")
        self.expect_error(status, err, str(tmp / "regs.yaml"), "invalid YAML")

    def test_every_error_is_reported(self):
        regs = copy.deepcopy(GOOD_REGS)
        reg(regs, "CTRL").update(offset=0x6)
        regs["registers"].append({"name": "FAR", "offset": 0x200, "access": "rw"})
        status, _out, err, _tmp = run_regtool(regs, GOOD_LAYOUTS)
        self.assertEqual(status, 1)
        self.assertIn("register CTRL: offset 0x6 is not word-aligned", err)
        self.assertIn("register FAR: offset 0x200", err)


def _make_case(which: str, mutate: Mutation, expected: str):
    def test(self: ValidationTests) -> None:
        regs, layouts = copy.deepcopy(GOOD_REGS), copy.deepcopy(GOOD_LAYOUTS)
        mutate(regs if which == "regs" else layouts)
        status, _out, err, tmp = run_regtool(regs, layouts)
        self.expect_error(status, err, str(tmp / f"{which}.yaml"), expected)
    return test


for _name, _mutate, _expected in REG_CASES:
    setattr(ValidationTests, f"test_regs_{_name}", _make_case("regs", _mutate, _expected))
for _name, _mutate, _expected in LAYOUT_CASES:
    setattr(ValidationTests, f"test_layouts_{_name}", _make_case("layouts", _mutate, _expected))


# ------------------------------------------------------------------------------------------------
# Generation


OUTPUTS = ["rtl/pkg/demo_reg_pkg.sv", "driver/include/demo/regs.hpp", "docs/registers.md", "docs/layouts.md",
           "rtl/regs/demo_reg_top.sv"]


class GenerationTests(unittest.TestCase):
    """A minimal good input generates every output, which --check then accepts."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="regtool-gen-"))
        cls.out = cls.tmp / "out"
        status, out, err, _ = run_regtool(GOOD_REGS, GOOD_LAYOUTS, out_dir=cls.out, tmp=cls.tmp)
        assert status == 0, err
        cls.stdout = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def text(self, rel: str) -> str:
        return (self.out / rel).read_text()

    def test_writes_every_output(self):
        for rel in OUTPUTS:
            self.assertTrue((self.out / rel).is_file(), rel)
            self.assertIn(f"wrote {rel}", self.stdout)

    def test_outputs_say_generated_do_not_edit(self):
        for rel in OUTPUTS:
            first = self.text(rel).splitlines()[0]
            self.assertIn("Generated by tools/regtool.py from", first, rel)
            self.assertIn("do not edit", first, rel)

    def test_check_accepts_fresh_outputs_and_rejects_edited_ones(self):
        status, out, err, _ = run_regtool(GOOD_REGS, GOOD_LAYOUTS, ("--check",), out_dir=self.out, tmp=self.tmp)
        self.assertEqual(status, 0, err + out)
        copy_dir = self.tmp / "edited"
        shutil.copytree(self.out, copy_dir)
        target = copy_dir / "docs" / "registers.md"
        target.write_text(target.read_text().replace("0x008", "0x00c", 1))
        status, out, err, _ = run_regtool(GOOD_REGS, GOOD_LAYOUTS, ("--check",), out_dir=copy_dir, tmp=self.tmp)
        self.assertEqual(status, 1)
        self.assertIn("docs/registers.md (committed)", out)
        self.assertIn("-| 0x00c", out)
        self.assertIn("out of date", err)
        (copy_dir / "docs" / "layouts.md").unlink()
        status, out, _err, _ = run_regtool(GOOD_REGS, GOOD_LAYOUTS, ("--check",), out_dir=copy_dir, tmp=self.tmp)
        self.assertEqual(status, 1)
        self.assertIn("docs/layouts.md: missing", out)

    def test_generation_is_deterministic(self):
        again = self.tmp / "again"
        run_regtool(GOOD_REGS, GOOD_LAYOUTS, out_dir=again, tmp=self.tmp)
        for rel in OUTPUTS:
            self.assertEqual((again / rel).read_text(), self.text(rel), rel)

    def test_sv_package_contents(self):
        sv = self.text("rtl/pkg/demo_reg_pkg.sv")
        self.assertIn("package demo_reg_pkg;", sv)
        for pattern in (r"localparam logic \[DEMO_ADDR_W-1:0\] DEMO_CTRL_OFFSET +  = 8'h08;",
                        r"DEMO_BASE_HI_OFFSET += 8'h14;",
                        r"localparam logic \[31:0\] +DEMO_CTRL_MODE_MASK += 32'h0000000e;",
                        r"DEMO_CTRL_RESET += 32'h00000004;",
                        r"localparam int +DEMO_CNT_PKT_FIRST += 1;",
                        r"DEMO_CNT_PKT_TIP_PGE_OFFSET += 8'h88;",
                        r"localparam int +DEMO_ENTRY_COUNT_BYTE += 10;",
                        r"localparam logic \[31:0\] DEMO_WORD_COUNT_MASK += 32'h0000ff00;",
                        # color: used by an 8-bit and a 2-bit field, so as wide as its values
                        r"typedef enum logic \[1:0\] {\n +DEMO_COLOR_RED += 2'd1,\n +DEMO_COLOR_GREEN = 2'd2\n +} demo_color_e;",
                        r"typedef enum logic \[2:0\] {",  # shape: unused, as wide as its values
                        # most significant first, reserved gaps filled, enum type where the widths agree
                        r"typedef struct packed {\n +logic \[15:0\] rsvd16; .*\n +logic \[7:0\] +count; .*\n"
                        r" +logic \[4:0\] +rsvd3; .*\n +logic +flag; .*\n +demo_color_e color; .*\n +} demo_word_t;",
                        r"logic \[7:0\] +color; +// byte 8: enum color"):
            self.assertRegex(sv, pattern)
        # Yosys 0.23: no import inside, no functions (return), no type parameters.
        self.assertNotRegex(sv, r"(?m)^\s*import\b")
        self.assertNotRegex(sv, r"\b(return|function|parameter type)\b")

    def test_cpp_header_contents(self):
        hpp = self.text("driver/include/demo/regs.hpp")
        self.assertIn("namespace demo::regs {", hpp)
        self.assertIn("inline constexpr Field32 kMode{1, 3, 0x0000000e};", hpp)
        self.assertIn("inline constexpr Field64 kHigh{32, 32, 0xffffffff00000000};", hpp)
        self.assertIn('{"PKT_TIP_PGE", 0x088},', hpp)
        self.assertIn("enum class Color : uint8_t {", hpp)
        self.assertIn("inline constexpr ByteField<uint8_t, Color> kColor{8};", hpp)
        self.assertIn("bool flag{};", hpp)

    def test_docs_contents(self):
        md = self.text("docs/registers.md")
        self.assertIn("| 0x008 | [CTRL](#ctrl) | 32 | rw | 0x00000004 | Control \\| with a pipe |", md)
        self.assertIn("| 3:1 | MODE | rw | 0x2 |  |", md)
        self.assertIn("| 0 | GO | w1s | 0x0 | Go |", md)
        self.assertIn("0x010, 64-bit, rw.\n", md)
        self.assertIn("| 0x088 | 1 | PKT_TIP_PGE | Packets of type `tip.pge` |", md)
        lay_md = self.text("docs/layouts.md")
        self.assertIn("| 9 | — | 8 | reserved |", lay_md)
        self.assertIn("| 10–11 | count | 16 |  |", lay_md)
        self.assertIn("| 31:16 | — | 16 | reserved |", lay_md)
        self.assertIn("Used by: `entry.color`, `word.color`.", lay_md)

    @unittest.skipUnless(shutil.which("verilator"), "verilator not installed")
    def test_sv_package_lints_clean(self):
        result = subprocess.run(["verilator", "--lint-only", "-Wall", str(self.out / OUTPUTS[0])],
                                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(shutil.which("g++"), "g++ not installed")
    def test_cpp_header_compiles_and_works(self):
        main = self.tmp / "main.cpp"
        main.write_text(textwrap.dedent("""\
            #include <demo/regs.hpp>
            #include <cstdio>
            namespace r = demo::regs;
            static_assert(r::ctrl::kMode.set(0, 5) == 0xa);
            static_assert(r::base::kHiOffset == 0x14);
            static_assert(r::Word::unpack(r::Word{r::Color::Green, true, 0x7f}.pack()).count == 0x7f);
            int main() {
              uint8_t buf[r::entry::kSize];
              r::Entry e{0x1122334455667788ull, r::Color::Red, 0x3344};
              e.store(buf);
              bool ok = r::Entry::load(buf) == e && buf[0] == 0x88 && buf[9] == 0 && buf[10] == 0x44;
              ok = ok && r::kCounters[2].offset == r::counters::kBase + 16 && r::kPacketTypes[0] == "tip.pge";
              ok = ok && r::to_string(r::Shape::Square) == "SQUARE";
              std::puts(ok ? "ok" : "FAIL");
              return ok ? 0 : 1;
            }
            """))
        exe = self.tmp / "main"
        cc = subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Werror",
                             "-I", str(self.out / "driver" / "include"), str(main), "-o", str(exe)],
                            capture_output=True, text=True, check=False)
        self.assertEqual(cc.returncode, 0, cc.stderr)
        run = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
        self.assertEqual(run.stdout.strip(), "ok")

    def test_reg_top_contents(self):
        sv = self.text("rtl/regs/demo_reg_top.sv")
        self.assertIn("module demo_reg_top (", sv)  # no PARAMS register: no parameters
        for pattern in (r"output logic +go_o, +// pulse: Go",          # w1s field: a pulse
                        r"output logic +start_o,",
                        r"output logic \[2:0\] +mode_o, +// CTRL.MODE",  # rw field of a rw register
                        r"output logic \[27:0\] +low_o,",                # fields of a 64-bit rw register
                        r"output logic \[31:0\] +high_o,",
                        r"input  logic \[63:0\] +tail_i,",               # ro register: an input
                        r"input  logic \[64\*3-1:0\] counters_i\n\);",
                        r"demo_reg_pkg::DEMO_BASE_HI_OFFSET: +rd_val = base_d\[63:32\];",
                        r"demo_reg_pkg::DEMO_CNT_CYCLES_OFFSET \+ 8'h4: +rd_val = cycles_q\[63:32\];",
                        r"demo_reg_pkg::DEMO_CNT_PKT_PSB_OFFSET: +rd_val = counters_i\[159:128\];",
                        r"demo_reg_pkg::DEMO_STATUS_ERR_BAD_MASK;",
                        r"ctrl_q <= demo_reg_pkg::DEMO_CTRL_RESET & CtrlMask;",
                        r"assign mode_o = ctrl_q\[3:1\];"):
            self.assertRegex(sv, pattern)
        self.assertNotIn("irq_enable_o", sv)  # the block's own registers are not exported
        # Yosys 0.23: no import, no return, no type parameters.
        self.assertNotRegex(sv, r"(?m)^\s*import\b")
        self.assertNotRegex(sv, r"\b(return|parameter type)\b")

    @unittest.skipUnless(shutil.which("verilator"), "verilator not installed")
    def test_reg_top_lints_clean(self):
        result = subprocess.run(["verilator", "--lint-only", "-Wall", str(self.out / OUTPUTS[0]),
                                 str(self.out / "rtl/regs/demo_reg_top.sv"), "--top-module", "demo_reg_top"],
                                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(shutil.which("yosys"), "yosys not installed")
    def test_reg_top_synthesizes(self):
        log = self.tmp / "yosys.log"
        script = (f"read_verilog -sv {self.out / OUTPUTS[0]} {self.out / 'rtl/regs/demo_reg_top.sv'}; "
                  "synth -top demo_reg_top; check -assert; select -assert-none t:$_DLATCH* t:$dlatch*")
        result = subprocess.run(["yosys", "-q", "-l", str(log), "-p", script], capture_output=True, text=True,
                                check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("Warning:", log.read_text())

    def test_sv_check_module(self):
        work = Path(tempfile.mkdtemp(prefix="regtool-test-", dir=self.tmp))
        status, _out, err, _ = run_regtool(GOOD_REGS, GOOD_LAYOUTS, ("--sv-check", str(work / "chk.sv")), tmp=work)
        self.assertEqual(status, 0, err)
        chk = (work / "chk.sv").read_text()
        self.assertIn("module demo_reg_pkg_check (", chk)
        self.assertIn("demo_reg_pkg::DEMO_CTRL_OFFSET == 8'h8;", chk)
        self.assertFalse((work / "out").exists(), "--sv-check writes only the check module")


class RepositoryTests(unittest.TestCase):
    """The repository's own inputs are valid and its committed outputs current."""

    def test_repository_outputs_up_to_date(self):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = regtool.main(["--check"])
        self.assertEqual(status, 0, out.getvalue() + err.getvalue())


if __name__ == "__main__":
    unittest.main()
