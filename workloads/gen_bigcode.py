#!/usr/bin/env python3
"""Generates bigcode.c: thousands of distinct small functions for xtu.

The output is a deterministic function of the command-line options (a private
xorshift generator picks every constant; nothing depends on the Python version,
the host or the time).  The generated program calls the functions in several
passes with different orders, so that under QEMU's `-tb-size 1` (a 1 MiB code
buffer) the translated code overflows the buffer several times and code is
executed again after each flush.
"""

import argparse
import math
import sys


class XorShift:
    """xorshift64*; stable across Python versions, unlike the random module."""

    def __init__(self, seed):
        self.s = (seed or 1) & 0xFFFFFFFFFFFFFFFF

    def next(self):
        x = self.s
        x ^= (x >> 12)
        x ^= (x << 25) & 0xFFFFFFFFFFFFFFFF
        x ^= (x >> 27)
        self.s = x
        return (x * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def below(self, n):
        return (self.next() >> 32) % n

    def u32(self):
        return self.next() >> 32

    def odd32(self):
        return self.u32() | 1


def c(v):
    return "0x%08xu" % (v & 0xFFFFFFFF)


KIND_LOOP, KIND_IFS, KIND_SWITCH, KIND_WHILE, KIND_BITS, KIND_CALLER = range(6)
KIND_NAMES = ["loop", "ifs", "switch", "while", "bits", "caller"]


def gen_loop(r, name):
    return [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        f"    uint32_t acc = x ^ {c(r.u32())};",
        f"    for (uint32_t i = 0; i < (x & {r.below(4) + 1}u) + {r.below(3) + 1}u; i++)",
        f"        acc = acc * {c(r.odd32())} + (i ^ {c(r.u32())});",
        f"    return acc ^ (acc >> {r.below(20) + 5});",
        "}",
    ]


def gen_ifs(r, name):
    mask = 1 << r.below(32)
    return [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        f"    if ((x & {c(r.u32() | mask)}) == {c(mask)})",
        f"        x = x * {c(r.odd32())} + {c(r.u32())};",
        f"    else if (x > {c(r.u32())})",
        f"        x = (x >> {r.below(15) + 1}) ^ {c(r.u32())};",
        "    else",
        f"        x = x + {c(r.u32())};",
        f"    if (x & {c(1 << r.below(32))})",
        f"        x ^= x << {r.below(12) + 1};",
        f"    return x - {c(r.u32())};",
        "}",
    ]


def gen_switch(r, name):
    ncases = r.below(5) + 4
    ops = ["+=", "^=", "-=", "*="]
    lines = [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        f"    switch ((x >> {r.below(24)}) & 7u) {{",
    ]
    for k in range(ncases):
        op = ops[r.below(len(ops))]
        val = r.odd32() if op == "*=" else r.u32()
        lines.append(f"    case {k}: x {op} {c(val)}; break;")
    lines += [
        f"    default: x = (x << {r.below(7) + 1}) | (x >> {r.below(7) + 20}); break;",
        "    }",
        f"    return x + {c(r.u32())};",
        "}",
    ]
    return lines


def gen_while(r, name):
    return [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        "    uint32_t n = 0;",
        f"    while ((x & {c(1 << r.below(3))}) == 0 && n < {r.below(5) + 3}u) {{",
        f"        x = (x >> 1) ^ {c(r.u32())};",
        "        n++;",
        "    }",
        f"    return x * {c(r.odd32())} + n;",
        "}",
    ]


def gen_bits(r, name):
    return [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        f"    uint32_t y = x ^ {c(r.u32())}, n = 0;",
        f"    while (y && n < {r.below(4) + 3}u) {{",
        "        y &= y - 1u;",
        "        n++;",
        "    }",
        f"    return (x + n * {c(r.odd32())}) ^ y;",
        "}",
    ]


def gen_caller(r, name, leaves):
    a = leaves[r.below(len(leaves))]
    b = leaves[r.below(len(leaves))]
    return [
        f"static NOINLINE uint32_t {name}(uint32_t x)",
        "{",
        f"    uint32_t t = f{a}(x ^ {c(r.u32())});",
        f"    if (t & {c(1 << r.below(32))})",
        f"        t += f{b}(t + {c(r.u32())});",
        f"    return t * {c(r.odd32())};",
        "}",
    ]


def generate(nfuncs, seed, hot, hot_rounds, out):
    r = XorShift(seed)
    kinds = []
    leaves = []
    body = []
    for i in range(nfuncs):
        if leaves and r.below(6) == 0:
            kind = KIND_CALLER
        else:
            kind = r.below(5)
        kinds.append(kind)
        name = f"f{i}"
        if kind == KIND_LOOP:
            body += gen_loop(r, name)
        elif kind == KIND_IFS:
            body += gen_ifs(r, name)
        elif kind == KIND_SWITCH:
            body += gen_switch(r, name)
        elif kind == KIND_WHILE:
            body += gen_while(r, name)
        elif kind == KIND_BITS:
            body += gen_bits(r, name)
        else:
            body += gen_caller(r, name, leaves[-64:])
        if kind != KIND_CALLER:
            leaves.append(i)
        body.append("")

    # Strides coprime with nfuncs give permutations of the function table.
    strides = []
    s = max(2, nfuncs // 3 + 7)
    while len(strides) < 2:
        if math.gcd(s, nfuncs) == 1:
            strides.append(s)
        s += 1

    counts = ", ".join(f"{KIND_NAMES[k]}={kinds.count(k)}" for k in range(len(KIND_NAMES)))
    w = out.write
    w("/* Generated by gen_bigcode.py; do not edit.\n")
    w(f" * functions={nfuncs} seed={seed} hot={hot} hot_rounds={hot_rounds}\n")
    w(f" * kinds: {counts}\n */\n")
    w("#include <stdint.h>\n#include <stdio.h>\n\n")
    w("#define NOINLINE __attribute__((noinline))\n")
    w(f"#define NFUNCS {nfuncs}u\n#define HOT {hot}u\n#define HOT_ROUNDS {hot_rounds}u\n\n")
    w("typedef uint32_t (*fn_t)(uint32_t);\n\n")
    w("\n".join(body))
    w("\nstatic fn_t const table[NFUNCS] = {\n")
    for i in range(0, nfuncs, 12):
        w("    " + ", ".join(f"f{j}" for j in range(i, min(i + 12, nfuncs))) + ",\n")
    w("};\n\n")
    w(f"""/* One pass over every function, visiting index (start + k * stride) mod NFUNCS. */
static NOINLINE uint32_t run_pass(uint32_t acc, uint32_t start, uint32_t stride)
{{
    uint32_t idx = start;
    for (uint32_t k = 0; k < NFUNCS; k++) {{
        acc = table[idx](acc ^ k) + k;
        idx += stride;
        if (idx >= NFUNCS)
            idx -= NFUNCS;
    }}
    return acc;
}}

/* A small set of functions executed repeatedly: stays translated. */
static NOINLINE uint32_t run_hot(uint32_t acc)
{{
    for (uint32_t round = 0; round < HOT_ROUNDS; round++)
        for (uint32_t k = 0; k < HOT; k++)
            acc = table[(k * 7u + round) % HOT](acc + round);
    return acc;
}}

static char stdout_buf[1024];

int main(void)
{{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    uint32_t a = run_pass(1u, 0u, 1u);
    uint32_t b = run_pass(a, NFUNCS / 2u, {strides[0]}u);
    uint32_t h = run_hot(b);
    uint32_t d = run_pass(h, 0u, 1u);
    uint32_t e = run_pass(d, 1u, {strides[1]}u);
    printf("bigcode: functions=%u passes=4 hot=%ux%u\\n", NFUNCS, HOT, HOT_ROUNDS);
    printf("pass1=%08x pass2=%08x hot=%08x\\n", (unsigned)a, (unsigned)b, (unsigned)h);
    printf("pass3=%08x pass4=%08x\\n", (unsigned)d, (unsigned)e);
    return 0;
}}
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", help="C file to write ('-' for stdout)")
    ap.add_argument("--functions", type=int, default=1600)
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--hot", type=int, default=128)
    ap.add_argument("--hot-rounds", type=int, default=250)
    args = ap.parse_args()
    if args.functions < 16 or args.hot < 1 or args.hot > args.functions:
        ap.error("need functions >= 16 and 1 <= hot <= functions")
    if args.output == "-":
        generate(args.functions, args.seed, args.hot, args.hot_rounds, sys.stdout)
    else:
        with open(args.output, "w", encoding="ascii", newline="\n") as f:
            generate(args.functions, args.seed, args.hot, args.hot_rounds, f)


if __name__ == "__main__":
    main()
