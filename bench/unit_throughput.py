#!/usr/bin/env python3
"""Run the unit (the cycle-accurate SystemC model, `xtu run --backend systemc`) on every trace
bundle written by bench/capture_golden.py, check its guest trace against the golden model's, and
print its throughput as Markdown tables (used for docs/benchmarks.md, "The unit"):

  1. every bundle at the default parameters (CAM_ENTRIES 64, memory read latency 20 cycles):
     cycles, PT bytes/cycle, guest blocks/cycle, nodes/cycle, TB cache hit rate, refills, stall
     cycles by cause, simulation time and speed;
  2. nodes (host block transitions) per cycle while the CAM hits (definitions below);
  3. a CAM_ENTRIES sweep (hit rate, cycles, blocks/cycle), also drawn as a plot (--plot); its
     largest size (4096) holds every workload's working set, so its misses are compulsory;
  4. a short memory-latency sweep on a few bundles.

usage: bench/unit_throughput.py BUILD_DIR [--bundles DIR] [--xtu PATH] [--out DIR] [--plot PNG]
                                [--cam-sizes 16,32,...] [--sweep-modes chained,nochain]
                                [--mem-latencies 5,20,...] [--mem-bundles NAME,...]

Bundles are BUNDLES/<workload>_<chained|nochain> (default BUILD_DIR/bench), each with golden.txt.
Simulations run one at a time (the model is single-threaded SystemC). Exits non-zero if any run
fails or any unit trace differs from golden.txt, or if the plot could not be written.

Definitions (from the unit's counters, rtl/regs/xtu_regs.yaml, as `xtu run --stats` prints them):
  nodes          NODES: host control transfers the walker followed (one per node of a TB
                 descriptor: conditional branch, goto_tb, goto_ptr, call, exit...), i.e. host
                 block transitions
  stall cycles   STALL_TRACE + STALL_REFILL + STALL_EVENT + STALL_OUTPUT
  walking cycles cycles - stall cycles: the cycles in which the walker made progress. Each
                 stall counter counts cycles in which the walker did nothing for that cause:
                 STALL_EVENT the cycles an event is sent to the tb_cache engine and applied (or a
                 packet waits for its events to arrive), STALL_REFILL the cycles of a CAM miss,
                 STALL_TRACE the cycles without a packet, STALL_OUTPUT the cycles the output
                 register was still full.
"""
import argparse, json, os, re, subprocess, sys, time

DEFAULT_CAM, DEFAULT_LAT = 64, 20

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("build")
ap.add_argument("--bundles", default=None, help="bundle directory (default BUILD/bench)")
ap.add_argument("--xtu", default=None, help="xtu binary (default BUILD/bin/xtu)")
ap.add_argument("--out", default=None, help="unit traces and results.json (default BUILD/bench/unit)")
ap.add_argument("--plot", default=None, help="CAM sweep plot, PNG (default OUT/cam_sweep.png)")
ap.add_argument("--cam-sizes", default="16,32,64,128,256,512,1024,4096",
                help="CAM_ENTRIES sweep; the largest is the 'CAM hits' configuration")
ap.add_argument("--sweep-modes", default="chained,nochain", help="modes in the CAM sweep ('' for none)")
ap.add_argument("--mem-latencies", default="5,20,50,100")
ap.add_argument("--mem-bundles", default="hashsort_chained,bigcode_chained",
                help="bundles in the memory-latency sweep ('' for none)")
a = ap.parse_args()

build = os.path.abspath(a.build)
bdir = os.path.abspath(a.bundles or os.path.join(build, "bench"))
xtu = os.path.abspath(a.xtu or os.path.join(build, "bin", "xtu"))
out = os.path.abspath(a.out or os.path.join(build, "bench", "unit"))
plot = os.path.abspath(a.plot or os.path.join(out, "cam_sweep.png"))
os.makedirs(out, exist_ok=True)
ints = lambda s: [int(x) for x in s.split(",") if x]
strs = lambda s: [x for x in s.split(",") if x]
cam_sizes, sweep_modes = ints(a.cam_sizes), strs(a.sweep_modes)
mem_lats, mem_bundles = ints(a.mem_latencies), strs(a.mem_bundles)

# Bundles: workload order from the build's workloads.json when there is one.
MODES = ("chained", "nochain")
found = {}
for d in sorted(os.listdir(bdir)):
    m = re.fullmatch(r"(.+)_(chained|nochain)", d)
    if m and os.path.isfile(os.path.join(bdir, d, "bundle.json")):
        found[(m.group(1), m.group(2))] = os.path.join(bdir, d)
order = []
wj = os.path.join(build, "workloads", "workloads.json")
if os.path.isfile(wj):
    order = [w["name"] for w in json.load(open(wj))]
order += sorted({w for w, _ in found} - set(order))
bundles = [(w, m, found[(w, m)]) for w in order for m in MODES if (w, m) in found]
if not bundles:
    sys.exit("unit_throughput: no <workload>_<chained|nochain> bundles in %s (run bench/capture_golden.py)" % bdir)
for w, m, b in bundles:
    if not os.path.isfile(os.path.join(b, "golden.txt")):
        sys.exit("unit_throughput: %s has no golden.txt (bench/capture_golden.py writes it)" % b)

# The --stats text of tools/xtu/cmd_run.cpp.
STATS = [
    ("cycles", r"xtu run \(\w+\): (\d+) cycles"),
    ("pt_bytes", r" (\d+) PT bytes"),
    ("blocks", r" (\d+) guest blocks"),
    ("nodes", r" (\d+) nodes \("),
    ("lookups", r"TB cache: (\d+) lookups"),
    ("hit_pct", r" ([0-9.]+)% hits"),
    ("refills", r" (\d+) refills"),
    ("probes", r" (\d+) hash probes"),
    ("events", r" (\d+) events,"),
    ("descriptors", r" (\d+) descriptors"),
    ("stall_trace", r"stalls \(cycles\): trace (\d+)"),
    ("stall_refill", r" refill (\d+),"),
    ("stall_event", r" event (\d+),"),
    ("stall_output", r" output (\d+);"),
    ("gaps", r" gaps (\d+)"),
    ("overflows", r" overflows (\d+)"),
    ("decode_errors", r" decode errors (\d+)"),
    ("sim_s", r"simulation: ([0-9.]+) s"),
    ("cycles_per_s", r" s, ([0-9.]+) cycles/s"),
]

failures = []


def run(w, mode, b, cam=DEFAULT_CAM, lat=DEFAULT_LAT):
    tag = "%s_%s_cam%d_lat%d" % (w, mode, cam, lat)
    trace = os.path.join(out, tag + ".txt")
    cmd = [xtu, "run", "--backend", "systemc", "--stats", b, "-o", trace]
    if cam != DEFAULT_CAM:
        cmd += ["--cam-entries", str(cam)]
    if lat != DEFAULT_LAT:
        cmd += ["--mem-latency", str(lat)]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.time() - t0
    r = dict(workload=w, mode=mode, cam=cam, lat=lat, wall_s=wall, ok=p.returncode == 0)
    for k, rx in STATS:
        m = re.search(rx, p.stderr)
        if m is None:
            r["ok"] = False
            r[k] = None
        else:
            r[k] = float(m.group(1)) if k in ("hit_pct", "sim_s", "cycles_per_s") else int(m.group(1))
    if not r["ok"]:
        failures.append("%s: xtu run exit %d\n%s" % (tag, p.returncode, p.stderr.strip()))
        r["equal"] = False
    else:
        eq = subprocess.run([xtu, "compare", os.path.join(b, "golden.txt"), trace], capture_output=True, text=True)
        r["equal"] = eq.returncode == 0
        if not r["equal"]:
            failures.append("%s: unit trace differs from golden.txt: %s" % (tag, (eq.stdout + eq.stderr).strip()[:400]))
        cyc = r["cycles"] or 1
        r["stalls"] = r["stall_trace"] + r["stall_refill"] + r["stall_event"] + r["stall_output"]
        r["walking"] = cyc - r["stalls"]
        r["bytes_per_cycle"] = r["pt_bytes"] / cyc
        r["blocks_per_cycle"] = r["blocks"] / cyc
        r["nodes_per_cycle"] = r["nodes"] / cyc
        r["nodes_per_walking"] = r["nodes"] / r["walking"] if r["walking"] > 0 else 0.0
    print("%-9s %-8s cam %-5d lat %-4d %s %10s cycles %6.1f s" % (
        w, mode, cam, lat, "equal" if r["equal"] else "DIFFERS", r.get("cycles"), wall), file=sys.stderr)
    return r


load0 = os.getloadavg()
t_start = time.time()
runs = {}  # (workload, mode, cam, lat) -> result


def get(w, mode, b, cam=DEFAULT_CAM, lat=DEFAULT_LAT):
    k = (w, mode, cam, lat)
    if k not in runs:
        runs[k] = run(w, mode, b, cam, lat)
    return runs[k]


for w, mode, b in bundles:
    get(w, mode, b)
sweep = [(w, mode, b) for w, mode, b in bundles if mode in sweep_modes]
for w, mode, b in sweep:
    for c in cam_sizes:
        get(w, mode, b, cam=c)
memb = [(w, mode, b) for w, mode, b in bundles if "%s_%s" % (w, mode) in mem_bundles]
for w, mode, b in memb:
    for lat in mem_lats:
        get(w, mode, b, lat=lat)
total_s = time.time() - t_start
load1 = os.getloadavg()

json.dump([dict(r) for r in runs.values()], open(os.path.join(out, "results.json"), "w"), indent=1)


def f3(x):
    return "—" if x is None else "%.3f" % x


def yes(r):
    return "yes" if r["equal"] else "**NO**"


def ok(r):
    return r["ok"] and r["cycles"]


# 1. Default parameters.
print("Default parameters: CAM_ENTRIES %d, memory read latency %d cycles, WALK_WIDTH 3, DEC_WIDTH 2." % (DEFAULT_CAM, DEFAULT_LAT))
print()
print("| workload | mode | cycles | PT bytes | PT bytes/cycle | guest blocks | blocks/cycle | nodes | nodes/cycle | "
      "CAM hits | refills | events | stall trace | stall refill | stall event | stall output | walking cycles | "
      "nodes/walking cycle | sim s | cycles/s | unit == golden |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
for w, mode, b in bundles:
    r = runs[(w, mode, DEFAULT_CAM, DEFAULT_LAT)]
    if not ok(r):
        print("| %s | %s | failed |%s **NO** |" % (w, mode, " |" * 18))
        continue
    print("| %s | %s | %d | %d | %.3f | %d | %.3f | %d | %.3f | %.2f%% | %d | %d | %d | %d | %d | %d | %d | %.3f | %.2f | %.0f | %s |" % (
        w, mode, r["cycles"], r["pt_bytes"], r["bytes_per_cycle"], r["blocks"], r["blocks_per_cycle"], r["nodes"],
        r["nodes_per_cycle"], r["hit_pct"], r["refills"], r["events"], r["stall_trace"], r["stall_refill"], r["stall_event"],
        r["stall_output"], r["walking"], r["nodes_per_walking"], r["sim_s"], r["cycles_per_s"], yes(r)))
print()
d = [runs[(w, m, DEFAULT_CAM, DEFAULT_LAT)] for w, m, _ in bundles]
d = [r for r in d if ok(r)]
if d:
    tot_c, tot_s = sum(r["cycles"] for r in d), sum(r["sim_s"] for r in d)
    print("Simulation speed at the defaults: %.0f–%.0f cycles/s per run, %.0f cycles/s overall (%d cycles in %.1f s); "
          "load average %.2f before, %.2f after all %d runs (%.0f s)." % (
              min(r["cycles_per_s"] for r in d), max(r["cycles_per_s"] for r in d), tot_c / tot_s, tot_c, tot_s,
              load0[0], load1[0], len(runs), total_s))
    print()

# 2. While the CAM hits: the largest CAM of the sweep, where a miss is the first use of a
# descriptor or a use after an event dropped its line (refills ~ descriptors written).
big = max(cam_sizes) if cam_sizes else None
if big and sweep:
    print("While the CAM hits: CAM_ENTRIES %d, memory read latency %d (misses: first use of a descriptor, or use "
          "after an event dropped its line)." % (big, DEFAULT_LAT))
    print()
    print("| workload | mode | CAM hits | refills | descriptors | cycles | stall refill | stall event | walking cycles | "
          "nodes/cycle | **nodes/walking cycle** | blocks/cycle | nodes/walking cycle at CAM %d | unit == golden |"
          % DEFAULT_CAM)
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
    for w, mode, b in sweep:
        r, r0 = runs[(w, mode, big, DEFAULT_LAT)], runs[(w, mode, DEFAULT_CAM, DEFAULT_LAT)]
        if not ok(r) or not ok(r0):
            print("| %s | %s | failed |%s **NO** |" % (w, mode, " |" * 11))
            continue
        print("| %s | %s | %.2f%% | %d | %d | %d | %d | %d | %d | %.3f | **%.3f** | %.3f | %.3f | %s |" % (
            w, mode, r["hit_pct"], r["refills"], r["descriptors"], r["cycles"], r["stall_refill"], r["stall_event"],
            r["walking"], r["nodes_per_cycle"], r["nodes_per_walking"], r["blocks_per_cycle"], r0["nodes_per_walking"],
            yes(r)))
    print()

# 3. CAM sweep.
if sweep and cam_sizes:
    head = "| workload | mode | " + " | ".join(str(c) for c in cam_sizes) + " |"
    rule = "|---|---|" + "--:|" * len(cam_sizes)
    for title, key, fmt in (("TB cache hit rate (%) against CAM_ENTRIES", "hit_pct", "%.2f"),
                            ("Guest blocks per cycle against CAM_ENTRIES", "blocks_per_cycle", "%.3f"),
                            ("Cycles (millions) against CAM_ENTRIES", "cycles", None)):
        print(title + ":")
        print()
        print(head)
        print(rule)
        for w, mode, b in sweep:
            cells = []
            for c in cam_sizes:
                r = runs[(w, mode, c, DEFAULT_LAT)]
                v = r.get(key) if ok(r) else None
                cells.append("failed" if v is None else ("%.2f" % (v / 1e6) if fmt is None else fmt % v))
            print("| %s | %s | %s |" % (w, mode, " | ".join(cells)))
        print()
    sw = [runs[(w, m, c, DEFAULT_LAT)] for w, m, _ in sweep for c in cam_sizes]
    print("Sweep: %d runs, %d with the unit's trace equal to golden.txt." % (len(sw), sum(r["equal"] for r in sw)))
    print()

# 4. Memory latency.
if memb and mem_lats:
    print("Memory read latency (CAM_ENTRIES %d):" % DEFAULT_CAM)
    print()
    print("| workload | mode | latency | cycles | blocks/cycle | PT bytes/cycle | refills | stall refill | "
          "stall refill/refill | stall trace | events | stall event | walking cycles | unit == golden |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
    for w, mode, b in memb:
        for lat in mem_lats:
            r = runs[(w, mode, DEFAULT_CAM, lat)]
            if not ok(r):
                print("| %s | %s | %d | failed |%s **NO** |" % (w, mode, lat, " |" * 9))
                continue
            print("| %s | %s | %d | %d | %.3f | %.3f | %d | %d | %.1f | %d | %d | %d | %d | %s |" % (
                w, mode, lat, r["cycles"], r["blocks_per_cycle"], r["bytes_per_cycle"], r["refills"], r["stall_refill"],
                r["stall_refill"] / r["refills"] if r["refills"] else 0.0, r["stall_trace"], r["events"],
                r["stall_event"], r["walking"], yes(r)))
    print()

# The plot: hit rate (and blocks/cycle) against CAM_ENTRIES, one line per bundle.
plot_ok = True
if sweep and cam_sizes:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plot_ok = False
        failures.append("no plot: matplotlib is not available to %s (Debian: python3-matplotlib, /usr/bin/python3)"
                        % sys.executable)
    if plot_ok:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=100)
        colors = {}
        for w, mode, b in sweep:
            rs = [runs[(w, mode, c, DEFAULT_LAT)] for c in cam_sizes]
            xs = [c for c, r in zip(cam_sizes, rs) if ok(r)]
            rs = [r for r in rs if ok(r)]
            col = colors.setdefault(w, "C%d" % len(colors))
            style = dict(color=col, marker="o", markersize=3, linewidth=1.2,
                         linestyle="-" if mode == "chained" else "--", label="%s %s" % (w, mode))
            ax1.plot(xs, [r["hit_pct"] for r in rs], **style)
            ax2.plot(xs, [r["blocks_per_cycle"] for r in rs], **style)
        for ax, yl in ((ax1, "TB cache hit rate (%)"), (ax2, "guest blocks per cycle")):
            ax.set_xscale("log", base=2)
            ax.set_xticks(cam_sizes)
            ax.set_xticklabels([str(c) for c in cam_sizes])
            ax.set_xlabel("CAM_ENTRIES")
            ax.set_ylabel(yl)
            ax.grid(True, alpha=0.3)
        ax1.set_title("hit rate", fontsize=10)
        ax2.set_title("throughput (memory latency %d cycles)" % DEFAULT_LAT, fontsize=10)
        h, l = ax1.get_legend_handles_labels()
        fig.legend(h, l, loc="center right", fontsize=7, frameon=False)
        fig.tight_layout(rect=(0, 0, 0.86, 1))
        os.makedirs(os.path.dirname(plot), exist_ok=True)
        fig.savefig(plot, dpi=100)
        print("plot: %s" % plot, file=sys.stderr)

for f in failures:
    print("unit_throughput: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
