"""Tests of the xtu Python module (run by CTest as `python_tests`).

Environment (set by python/CMakeLists.txt): PYTHONPATH has the built module; XTU_E2E_DIR is
build/tests/e2e, where the end-to-end capture tests (CTest fixtures bundle_exit_code and
bundle_hashsort_chained) wrote the bundles; XTU_TEST_GUEST_DIR holds the tiny test guests and
XTU_QEMU_AARCH64 is the QEMU the capture test runs.

pytest runs every test in this one process, so they all share the process's single device
(xtu.open()); other device configurations are tested in subprocesses.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

import xtu

E2E = Path(os.environ.get("XTU_E2E_DIR", Path(__file__).resolve().parents[2] / "build" / "tests" / "e2e"))
REG_MAP = yaml.safe_load((Path(__file__).resolve().parents[2] / "rtl" / "regs" / "xtu_regs.yaml").read_text())
GUESTS = Path(os.environ.get("XTU_TEST_GUEST_DIR", E2E.parent / "guests"))
QEMU = os.environ.get("XTU_QEMU_AARCH64", "qemu-aarch64")
BUNDLES = ("exit_code", "hashsort_chained")


def bundle(name):
    d = E2E / name / "bundle"
    if not (d / "bundle.json").exists():
        pytest.fail(f"bundle {d} is missing: run the CTest fixture bundle_{name} (e2e_{name}) first")
    return d


@pytest.fixture(scope="module")
def dev():
    return xtu.open()


@pytest.fixture(scope="module")
def runs(dev):
    """One run of each bundle (the runs take most of the time: share them)."""
    return {name: dev.run(bundle(name)) for name in BUNDLES}


@pytest.fixture(scope="module")
def goldens():
    return {name: xtu.golden(bundle(name)) for name in BUNDLES}


# ---- module ----------------------------------------------------------------------------------

def test_module_constants():
    assert xtu.__version__ == "0.1.0"
    assert (xtu.BLOCK, xtu.GAP, xtu.CONTEXT, xtu.TIME, xtu.END) == (1, 2, 3, 4, 5)
    assert (xtu.GAP_OVF, xtu.GAP_DECODE, xtu.GAP_NOSYNC) == (1, 2, 3)
    assert "BLOCKS" in xtu.COUNTERS and "CAM_HITS" in xtu.COUNTERS and "PKT_TIP" in xtu.COUNTERS
    assert len(set(xtu.COUNTERS)) == len(xtu.COUNTERS)
    for obj in (xtu, xtu.open, xtu.golden, xtu.compare, xtu.read_guest_trace, xtu.capture, xtu.Device,
                xtu.Device.run, xtu.Run, xtu.GuestTrace, xtu.FormatError):
        assert obj.__doc__ and len(obj.__doc__) > 20, obj


# ---- device ----------------------------------------------------------------------------------

def test_open_returns_the_one_device(dev):
    assert xtu.open() is dev
    assert xtu.open("systemc", cam_entries=64, mem_latency=20) is dev
    assert dev.name == "systemc"
    assert dev.options["cam_entries"] == 64 and dev.options["vcd"] is None


def test_open_with_other_options_raises(dev):
    with pytest.raises(RuntimeError, match=r"already open.*cam_entries=64 \(asked: 32\)"):
        xtu.open(cam_entries=32)
    with pytest.raises(RuntimeError, match="mem_latency=20 \\(asked: 7\\)"):
        xtu.open(mem_latency=7)
    with pytest.raises(ValueError, match="unknown backend"):
        xtu.open("verilator")
    with pytest.raises(ValueError, match="power of two"):
        xtu.open(cam_entries=48)
    assert xtu.open() is dev  # still usable


def test_info_and_registers(dev):
    info = dev.info()
    assert info["id"] == 0x58545531 and info["id_text"] == "XTU1"
    v = REG_MAP["version"]  # the register map's single source says which version the unit reports
    assert info["version_text"] == f'{v["major"]}.{v["minor"]}.{v["patch"]}'
    assert info["cam_entries"] == 64 and info["max_nodes"] > 0 and info["axi_bytes"] == 8
    assert info["ht_max_probe"] > 0 and info["walk_width"] >= 1
    assert info["backend"] == "systemc"
    assert dev.read32(0x000) == info["id"]
    assert dev.read32(0x004) == info["version"]
    with pytest.raises(ValueError):
        dev.read32(0x002)
    c = dev.counters()
    assert list(c) == list(xtu.COUNTERS)


def test_cycles_advance_and_reset(dev):
    before = dev.cycles
    r = dev.run(bundle("exit_code"))
    assert dev.cycles >= before + r.cycles > before
    assert dev.counters()["BLOCKS"] == r.stats["BLOCKS"] > 0
    # A soft reset keeps the counters (docs/registers.md); the next START clears them.
    dev.reset()
    assert dev.counters()["BLOCKS"] == r.stats["BLOCKS"]
    assert dev.cycles > before + r.cycles


# ---- runs equal the golden model ---------------------------------------------------------------

@pytest.mark.parametrize("name", BUNDLES)
def test_run_equals_golden(runs, goldens, name):
    r, g = runs[name], goldens[name]
    assert r.ok and r.done and r.violations == []
    assert r.trace.dtype == np.uint64 and g.pcs.dtype == np.uint64
    assert r.gaps.dtype == np.int64 and g.gaps.dtype == np.int64
    assert len(r.trace) > 1000
    np.testing.assert_array_equal(r.trace, g.pcs)
    np.testing.assert_array_equal(r.gaps, g.gaps)
    assert np.array_equal(r.trace, np.asarray(g))
    assert r.guest == g and g == r.guest and g == r and not (g != r)
    assert xtu.compare(g, r) is None


@pytest.mark.parametrize("name", BUNDLES)
def test_golden_equals_ground_truth_and_cli(goldens, name):
    g = goldens[name]
    assert g == xtu.read_guest_trace(bundle(name) / "guest.txt")  # QEMU's own trace
    cli = E2E / name / "golden.txt"  # written by `xtu golden` in the capture test
    if cli.exists():
        assert xtu.compare(cli, g) is None
    s = g.stats
    assert s["records"] == len(g) and s["gaps"] == len(g.gaps) == 0
    assert s["pt_bytes"] == (bundle(name) / "trace.pt").stat().st_size


def test_records(runs):
    for name, r in runs.items():
        rec = r.records
        assert isinstance(rec, np.ndarray) and rec.ndim == 1 and len(r) == len(rec)
        assert rec.dtype == xtu.RECORD_DTYPE and rec.dtype.itemsize == 16
        assert rec.dtype.names == ("kind", "value", "flags", "icount", "tsc")
        assert [rec.dtype[f] for f in rec.dtype.names] == [np.dtype(t) for t in ("u1", "<u8", "u1", "<u2", "<u4")]
        kinds = rec["kind"]
        assert set(np.unique(kinds)) <= {xtu.BLOCK, xtu.GAP, xtu.CONTEXT, xtu.TIME, xtu.END}
        blocks = rec[kinds == xtu.BLOCK]
        np.testing.assert_array_equal(blocks["value"], r.trace)
        assert (blocks["icount"] >= 1).all()
        assert (kinds == xtu.GAP).sum() == 0 and (kinds == xtu.CONTEXT).sum() == 0
        # The job ends with one END record carrying the trace bytes consumed.
        assert kinds[-1] == xtu.END and (kinds == xtu.END).sum() == 1
        assert rec["value"][-1] == r.stats["pt_bytes"]
        # The output ring's byte layout: value in bytes 0-7, kind in byte 8.
        raw = rec.tobytes()
        assert int.from_bytes(raw[0:8], "little") == rec["value"][0] and raw[8] == kinds[0]
        with pytest.raises(ValueError):
            rec["kind"][0] = 3  # read-only


def test_stats(runs):
    for name, r in runs.items():
        s = r.stats
        for key in list(xtu.COUNTERS) + ["cycles", "pt_bytes", "seconds", "done", "status", "blocks_per_cycle",
                                         "bytes_per_cycle", "cam_hit_rate"]:
            assert key in s, key
        blocks = int((r.records["kind"] == xtu.BLOCK).sum())
        assert s["BLOCKS"] == blocks == len(r.trace)
        assert s["cycles"] == r.cycles > 0 and s["CYCLES"] > 0
        assert s["done"] is True and s["records"] == len(r.records)
        assert s["pt_bytes"] == (bundle(name) / "trace.pt").stat().st_size == s["TRACE_BYTES"]
        assert 0.0 <= s["cam_hit_rate"] <= 1.0
        assert s["cam_hit_rate"] == pytest.approx(s["CAM_HITS"] / s["CAM_LOOKUPS"])
        assert s["blocks_per_cycle"] == pytest.approx(blocks / r.cycles)
        assert s["bytes_per_cycle"] == pytest.approx(s["pt_bytes"] / r.cycles)
        assert 0 < s["blocks_per_cycle"] < 4 and 0 < s["bytes_per_cycle"] <= 8
        assert s["seconds"] > 0 and s["descriptors"] > 0
        assert s["PKT_PSB"] > 0 and s["PKT_TIP"] > 0
        assert s["GAPS"] == s["OVERFLOWS"] == s["DECODE_ERRORS"] == 0


def test_two_bundles_in_one_process(dev, runs, goldens):
    """Jobs one after another on the one device (run() resets between them) are independent:
    a bundle run again after another gives the same records, cycles and counters."""
    again = [dev.run(bundle(n)) for n in ("hashsort_chained", "exit_code")]
    for r, name in zip(again, ("hashsort_chained", "exit_code")):
        assert r.guest == goldens[name]
        np.testing.assert_array_equal(r.records, runs[name].records)
        assert r.cycles == runs[name].cycles
        assert {k: v for k, v in r.stats.items() if k.isupper()} == \
            {k: v for k, v in runs[name].stats.items() if k.isupper()}


def test_run_options(dev, goldens):
    # The smallest output ring: the unit stalls on it but the trace is the same.
    r = dev.run(bundle("exit_code"), out_ring=64, step_cycles=512)
    assert r.ok and r.guest == goldens["exit_code"]
    assert r.stats["STALL_OUTPUT"] > 0
    # CONTEXT records on request: the trace is unchanged.
    r = dev.run(bundle("exit_code"), contexts=True)
    assert (r.records["kind"] == xtu.CONTEXT).sum() >= 1 and r.guest == goldens["exit_code"]
    with pytest.raises(ValueError, match="powers of two"):
        dev.run(bundle("exit_code"), out_ring=100)
    with pytest.raises(TypeError):
        dev.run(bundle("exit_code"), 4096)  # options are keyword-only


# ---- live session ----------------------------------------------------------------------------

def feed_session(dev, name, rng, **opts):
    """Feed a bundle to a live Session the way a DBT would: each event as a call at its trace
    offset, the PT bytes in pieces of random size between the calls, steps now and then."""
    d = bundle(name)
    events = xtu.read_events(d / "events.xtev")
    pt = (d / "trace.pt").read_bytes()
    proc = next(e for e in events if e["type"] == "process")
    s = dev.session(cr3=proc["cr3"], vmcs=proc["vmcs"], code_base=proc["code_base"],
                    code_size=proc["code_size"], **opts)
    given, stepped = 0, []
    for e in events:
        upto = min(e["offset"], len(pt))
        while given < upto:
            n = min(upto - given, rng.randrange(1, 20000))
            s.trace(pt[given:given + n])
            given += n
            if rng.random() < 0.05:
                stepped.append(s.step())
        t, off = e["type"], e["offset"]
        if t == "code":
            s.code(off, e["host_addr"], e["code"])
        elif t == "tb":
            s.tb_translated(off, e["host_addr"], e["guest_pc"], e["guest_insns"], e["code"])
        elif t == "link":
            s.tb_linked(off, e["src_tb"], e["slot"], e["target"])
        elif t == "unlink":
            s.tb_unlinked(off, e["src_tb"], e["slot"])
        elif t == "invalidate":
            s.tb_invalidated(off, e["host_addr"])
        elif t == "flush":
            s.flush(off)
    s.trace(pt[given:])
    return s, stepped


def test_live_session_equals_run(dev, runs):
    import random
    s, stepped = feed_session(dev, "exit_code", random.Random(5), trace_ring=8192, event_entries=32, chunk=2048,
                              step_cycles=1024)
    with pytest.raises(RuntimeError, match="Session is open"):
        dev.run(bundle("exit_code"))  # the session owns the device
    r = s.finish()
    assert r.ok
    assert r.guest == runs["exit_code"].guest
    assert np.array_equal(r.records, runs["exit_code"].records)
    # step() handed out a prefix of the records finish() returns
    got = np.concatenate(stepped) if stepped else np.zeros(0, dtype=xtu.RECORD_DTYPE)
    assert np.array_equal(got, r.records[:len(got)])
    with pytest.raises(RuntimeError, match="finished"):
        s.step()
    assert dev.run(bundle("exit_code")).guest == runs["exit_code"].guest  # the device is free again


def test_live_session_errors(dev):
    with dev.session() as s:
        s.tb_invalidated(100, 0x1000)
        with pytest.raises(ValueError, match="must not decrease"):
            s.tb_invalidated(50, 0x1000)
        s.trace(bytes(200))
        with pytest.raises(ValueError, match="too late"):
            s.flush(150)
        with pytest.raises(RuntimeError, match="before the prologue"):
            s.tb_translated(300, 0x2000, 0x400000, 1, b"\xc3")
        with pytest.raises(RuntimeError, match="already open"):
            dev.session()
    r = dev.run(bundle("exit_code"))  # closed by the with-block: the device is free
    assert r.ok


def test_read_events(tmp_path):
    ev = xtu.read_events(bundle("exit_code") / "events.xtev")
    kinds = {e["type"] for e in ev}
    assert {"process", "code", "tb", "link"} <= kinds
    tb = next(e for e in ev if e["type"] == "tb")
    assert tb["guest_insns"] == len(tb["insn_pcs"]) and tb["insn_pcs"][0] == tb["guest_pc"]
    assert isinstance(tb["code"], bytes) and len(tb["code"]) > 0
    assert all(a["offset"] <= b["offset"] for a, b in zip(ev, ev[1:]))
    bad = tmp_path / "bad.xtev"
    bad.write_bytes(b"NOTXTEV!" + bytes(40))
    with pytest.raises(xtu.FormatError):
        xtu.read_events(bad)


# ---- errors ----------------------------------------------------------------------------------

def test_missing_bundle_raises(dev, tmp_path):
    missing = tmp_path / "no_such_bundle"
    for call in (lambda: dev.run(missing), lambda: xtu.golden(missing), lambda: dev.run(str(missing))):
        with pytest.raises(FileNotFoundError) as e:
            call()
        assert str(missing) in str(e.value) and e.value.filename == str(missing)
    with pytest.raises(FileNotFoundError, match="no bundle.json"):
        dev.run(tmp_path)
    with pytest.raises(FileNotFoundError, match="guest trace not found"):
        xtu.read_guest_trace(missing / "guest.txt")
    # The device is still usable.
    assert dev.run(bundle("exit_code")).ok


def test_malformed_bundle_raises_format_error(dev, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(bundle("exit_code"), b, ignore=shutil.ignore_patterns("qemu"))
    (b / "bundle.json").write_text('{"format": "xtu-bundle", "version": 7}')
    for call in (lambda: dev.run(b), lambda: xtu.golden(b)):
        with pytest.raises(xtu.FormatError, match="unsupported bundle version 7") as e:
            call()
        assert isinstance(e.value, ValueError)
        assert e.value.file == str(b / "bundle.json") and e.value.offset == 0
    with pytest.raises(xtu.FormatError, match="expected header"):
        xtu.read_guest_trace(b / "trace.pt")


# ---- guest traces ----------------------------------------------------------------------------

def test_guest_trace_arrays_and_text(goldens, tmp_path):
    g = goldens["exit_code"]
    assert len(g) == g.blocks == len(g.pcs)
    assert not g.pcs.flags.writeable
    p = tmp_path / "g.txt"
    g.write(p)
    assert p.read_text() == g.to_text()
    truth = [l for l in (bundle("exit_code") / "guest.txt").read_text().splitlines() if not l.startswith("# ground")]
    assert g.to_text().splitlines() == truth
    assert xtu.read_guest_trace(p) == g

    t = xtu.GuestTrace([0x400000, 0x400010, 0x400020], gaps=[0, 2])
    assert t.to_text() == "# xtu guest trace v1\ngap\n0x400000\n0x400010\ngap\n0x400020\n"
    assert t != xtu.GuestTrace([0x400000, 0x400010, 0x400020], gaps=[0, 3])
    assert t == xtu.GuestTrace(np.array([0x400000, 0x400010, 0x400020], dtype=np.uint64), np.array([0, 2]))
    t.write(p)
    u = xtu.read_guest_trace(p)
    assert u == t and list(u.gaps) == [0, 2]
    with pytest.raises(ValueError, match="strictly increasing"):
        xtu.GuestTrace([1, 2], gaps=[1, 1])
    with pytest.raises(ValueError, match="outside"):
        xtu.GuestTrace([1, 2], gaps=[3])


def test_compare_names_first_difference(goldens, runs):
    g = goldens["hashsort_chained"]
    pcs = np.array(g.pcs)
    pcs[1234] += 4
    msg = xtu.compare(g, pcs)
    assert msg.startswith("first difference at record 1234: expected ")
    msg = xtu.compare(g, xtu.GuestTrace(g.pcs[:-1]))
    assert "got <end>" in msg
    msg = xtu.compare(g, xtu.GuestTrace(g.pcs, gaps=[10]))
    assert "first difference at record 10" in msg and "got gap" in msg
    assert xtu.compare(runs["hashsort_chained"], bundle("hashsort_chained") / "guest.txt") is None
    with pytest.raises(TypeError):
        xtu.compare(g, 42)


def test_golden_insn_mode(goldens):
    gi = xtu.golden(bundle("exit_code"), insn=True)
    g = goldens["exit_code"]
    assert len(gi) > len(g)
    # Every block starts with its first instruction: the block pcs are in the instruction trace.
    assert np.isin(g.pcs, gi.pcs).all()


# ---- other device configurations, VCD, capture (separate processes) ---------------------------

def run_python(code, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(xtu.__file__), env.get("PYTHONPATH", "")])
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_other_configuration_and_vcd_in_another_process(tmp_path):
    """A 2-line TB cache and slow memory (another process: one device per process) give the same
    trace, more cycles and a lower hit rate; the VCD is complete when the interpreter exits."""
    out = run_python(f"""
        import xtu
        d = xtu.open(cam_entries=2, mem_latency=50, vcd="{tmp_path}/wave.vcd")
        assert d.info()["cam_entries"] == 2
        r = d.run("{bundle('exit_code')}")
        assert r.ok and xtu.compare(xtu.golden("{bundle('exit_code')}"), r) is None
        try:
            xtu.open()
        except RuntimeError as e:
            assert "cam_entries=2 (asked: 64)" in str(e)
        else:
            raise AssertionError("a second configuration was opened")
        print("RESULT", r.cycles, r.stats["cam_hit_rate"])
    """, tmp_path)
    _, cycles, hit_rate = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    ref = xtu.open().run(bundle("exit_code"))
    assert int(cycles) > ref.cycles and float(hit_rate) < ref.stats["cam_hit_rate"]
    vcd = (tmp_path / "wave.vcd").read_bytes()
    assert vcd.startswith(b"$date") or b"$timescale" in vcd[:2000]
    assert b"$enddefinitions" in vcd and vcd.rstrip().splitlines()[-1].startswith(b"#")


def test_capture_then_run(dev, tmp_path):
    guest = GUESTS / "exit_code"
    if not guest.exists():
        pytest.fail(f"test guest {guest} is missing (build target test_guests)")
    out = tmp_path / "bundle"
    rep = xtu.capture(out, [guest, "5"], qemu=QEMU)
    assert rep["exit_code"] == 5 and rep["mode"] == "chained" and rep["workload"] == "exit_code"
    assert rep["blocks"] == rep["guest_blocks"] > 1000
    assert rep["pt_bytes"] == (out / "trace.pt").stat().st_size > 0
    assert rep["translations"] > 100 and rep["links"] > 0 and rep["flushes"] == 0
    assert rep["seconds"] > 0
    truth = xtu.read_guest_trace(out / "guest.txt")
    assert len(truth) == rep["guest_blocks"]
    g = xtu.golden(out)
    r = dev.run(out)
    assert g == truth and r.guest == g

    nochain = xtu.capture(tmp_path / "nochain", [str(guest)], nochain=True, qemu=QEMU)
    assert nochain["mode"] == "nochain" and nochain["linked"] == 0 and nochain["exit_code"] == 0
    with pytest.raises(RuntimeError, match="no_such_program"):
        xtu.capture(tmp_path / "x", [tmp_path / "no_such_program"], qemu=QEMU)
    with pytest.raises(TypeError):
        xtu.capture(tmp_path / "x", str(guest))  # argv is a list
