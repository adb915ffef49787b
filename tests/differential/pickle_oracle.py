#!/usr/bin/env python3
"""Generates pickles and near-pickles and asks Python which of them it reads
to STOP. Used by tests/pickle_differential.rs; standard library only.

Cases are built at the opcode level (every opcode first, arguments written
in every form the readers disagree on, text-like protocol 0), taken from
pickle.dumps for protocols 0 to 5, and mutated (truncated, bytes flipped,
inserted or deleted, trailing bytes, runs of pickles, polyglot prefixes).

For each case four readers are asked, none of which executes anything:
pickletools.genops (the opcode grammar), pickletools.dis (grammar plus its
stack and memo checks), and the C and pure-Python unpicklers with every
import and persistent id replaced by an inert stand-in.

Usage: pickle_oracle.py SEED COUNT OUT
OUT receives b"MSPK1\\n", then per case: u32 length, u8 category, u8 flags
(1 genops, 2 dis, 4 C unpickler, 8 Python unpickler reached STOP), bytes.
"""

import contextlib
import copyreg
import io
import itertools
import pickle
import pickletools
import random
import resource
import signal
import struct
import sys
import warnings

CATEGORIES = [
    "dumps",
    "opcode-walk",
    "first-opcode",
    "text-protocol-0",
    "argument-forms",
    "truncated",
    "byte-flip",
    "insert-delete",
    "trailing-bytes",
    "pickle-run",
    "polyglot-prefix",
]

# Extension codes the stand-in registry knows (EXT1/EXT2/EXT4).
EXT_CODES = list(range(1, 256)) + [0x100, 0xFFFF, 0x10000, 0x7FFFFFFF]


class Inert:
    """Stands in for every global: accepts any call and any state."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Inert()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def add(self, item):
        pass

    def __setitem__(self, key, value):
        pass


class CReader(pickle.Unpickler):
    def find_class(self, module, name):
        return Inert

    def persistent_load(self, pid):
        return Inert()


class PyReader(pickle._Unpickler):
    def find_class(self, module, name):
        return Inert

    def persistent_load(self, pid):
        return Inert()


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def reaches_stop(reader, data):
    buffers = (b"x" for _ in itertools.count())
    signal.setitimer(signal.ITIMER_REAL, 10.0)
    try:
        # A read-only view of a dropped bytearray is reported on stderr.
        with contextlib.redirect_stderr(io.StringIO()):
            reader(io.BytesIO(data), buffers=buffers, encoding="latin1").load()
        return True
    except Timeout:
        raise
    except BaseException:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def genops_stop(data):
    try:
        for op, _, _ in pickletools.genops(data):
            pass
        return True
    except Exception:
        return False


def dis_ok(data):
    try:
        pickletools.dis(data, out=io.StringIO())
        return True
    except Exception:
        return False


# --- generation -------------------------------------------------------------

OPS = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
CODES = sorted(OPS)

MODULES = [("os", "system"), ("builtins", "eval"), ("torch._utils", "_rebuild_tensor_v2"),
           ("collections", "OrderedDict"), ("numpy", "dtype"), ("a.b", "c.d"), ("x", "y")]


def ident(r):
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(r.randint(1, 8)))


def text_line(r):
    return ident(r).encode()


def int_form(r):
    return r.choice([b"0", b"12", b" 12 ", b"-3", b"+5", b"00", b"01", b"012", b"0x1f",
                     b"0o17", b"0b101", b"1_000", b"1__0", b"_1", b"1e3", b"12L", b"5\x00junk",
                     b"\x00", b"\x00junk", b" \x00", b"-\x00",
                     b"", b"abc", b"9" * 40, b"9" * 5000, b"0x", b"--1", b"1 2"])


def long_form(r):
    return r.choice([b"12L", b"12", b"-7L", b"0L", b"L", b"12 L", b"0x10L", b"1_0L", b"1.5L",
                     b"9" * 30 + b"L"])


def float_form(r):
    return r.choice([b"1.5", b"-0.0", b"nan", b"inf", b"-Infinity", b"1e5", b"1E-3", b".5", b"5.",
                     b"1_0.5", b".", b"e5", b"1.2.3", b"abc", b"", b"1.5\x00x", b" 2.5 "])


def string_form(r):
    return r.choice([b"'abc'", b'"abc"', b"'a\\x41'", b"'a\\x4'", b"'abc\\'", b"'", b"''", b"abc",
                     b"'abc\"", b"'\\n\\t\\777'", b"'\\q'", "'é'".encode(), b"'\xff'",
                     b"'os'", b"'system'"])


def unicode_form(r):
    return r.choice([b"abc", b"\\u00e9", b"\\u12", b"\\u12zz", b"\\U00110000", b"\\U0001F600",
                     b"\\\\u12", b"\\", b"\xff\xfe", "é".encode(), b"os", b"system", b""])


def memo_form(r, keys):
    if keys and r.random() < 0.7:
        k = r.choice(sorted(keys))
        return r.choice([str(k).encode(), b" " + str(k).encode() + b" ", ("%d" % k).encode()])
    return r.choice([b"0", b"1", b"-1", b"1_0", b"x", b"", b"7\x00z", b"00", b"01"])


def counted(r, op, payload):
    a = op.arg.name
    n = len(payload)
    if r.random() < 0.05:
        n = r.choice([n + 1, max(n - 1, 0), 0xFFFFFFFF, -1 & 0xFFFFFFFF, 1 << 40])
    if a in ("string1", "bytes1", "unicodestring1", "long1"):
        return bytes([n & 0xFF]) + payload
    if a in ("string4", "long4"):
        if r.random() < 0.03:
            return struct.pack("<i", -5) + payload
        return struct.pack("<I", n & 0xFFFFFFFF) + payload
    if a in ("bytes4", "unicodestring4"):
        return struct.pack("<I", n & 0xFFFFFFFF) + payload
    return struct.pack("<Q", n & 0xFFFFFFFFFFFFFFFF) + payload


def argument(r, op, keys):
    a = op.arg
    if a is None:
        return b""
    name = a.name
    if name == "decimalnl_short":
        if op.name in ("GET", "PUT"):
            return memo_form(r, keys) + b"\n"
        return int_form(r) + b"\n"
    if name == "decimalnl_long":
        return long_form(r) + b"\n"
    if name == "floatnl":
        return float_form(r) + b"\n"
    if name == "stringnl":
        return string_form(r) + b"\n"
    if name == "unicodestringnl":
        return unicode_form(r) + b"\n"
    if name == "stringnl_noescape":
        return r.choice([b"pid", b"\xffbad", b"a\\x4", b"0"]) + b"\n"
    if name == "stringnl_noescape_pair":
        m, n = r.choice(MODULES)
        if r.random() < 0.2:
            m = r.choice(["\xff", ident(r), "é", "a\\x4", ""])
        return m.encode("utf-8", "surrogateescape") + b"\n" + n.encode() + b"\n"
    if name == "uint1":
        if op.name == "PROTO":
            return bytes([r.choice([0, 1, 2, 3, 4, 5, 5, 6, 255])])
        if op.name in ("BINGET", "BINPUT") and keys and r.random() < 0.7:
            return bytes([r.choice(sorted(keys)) & 0xFF])
        if op.name == "EXT1":
            return bytes([r.choice([0, 1, 2, 200])])
        return bytes([r.randrange(256)])
    if name == "uint2":
        return struct.pack("<H", r.choice([0, 1, 300, 0xFFFF]))
    if name in ("uint4", "int4"):
        if op.name in ("LONG_BINGET", "LONG_BINPUT") and keys and r.random() < 0.7:
            return struct.pack("<I", r.choice(sorted(keys)) & 0xFFFFFFFF)
        if op.name == "LONG_BINPUT":
            # The C unpickler allocates a memo table up to the index: keep
            # it small, or large enough to fail at once under the limit.
            return struct.pack("<I", r.choice([0, 1, 0x10000, r.randrange(1 << 20), 0x7FFFFFFF,
                                               0xFFFFFFFF]))
        return struct.pack("<I", r.choice([0, 1, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF, r.randrange(1 << 32)]))
    if name == "uint8":
        return struct.pack("<Q", r.choice([0, 5, 1 << 20, 1 << 62, r.randrange(1 << 64)]))
    if name == "float8":
        return struct.pack(">d", r.random())
    if name in ("string1", "string4", "bytes1", "bytes4", "bytes8", "bytearray8", "long1", "long4"):
        payload = bytes(r.randrange(256) for _ in range(r.randint(0, 12)))
        if r.random() < 0.3:
            payload = r.choice([b"os", b"system", b"builtins", b"eval"])
        return counted(r, op, payload)
    if name in ("unicodestring1", "unicodestring4", "unicodestring8"):
        payload = r.choice([b"os", b"system", b"builtins", b"exec", b"torch._utils",
                            "é€".encode(), b"\xed\xa0\x80", b"\xff", b"\xc0\x80", b"plain"])
        return counted(r, op, payload)
    raise AssertionError(name)


def walk(r, first=None, text_only=False, length=None):
    """A random opcode program, mostly valid for a simple stack model."""
    out = bytearray()
    depth = 0
    marks = []
    keys = set()
    steps = length if length is not None else r.randint(1, 30)
    text_codes = [c for c in CODES if OPS[c].proto == 0]
    for i in range(steps):
        pool = text_codes if text_only else CODES
        if i == 0 and first is not None:
            code = first
        elif r.random() < 0.8:
            code = choose_valid(r, pool, depth, marks, keys)
        else:
            code = r.choice(pool)
        op = OPS[code]
        if code == b".":
            continue
        out += code + argument(r, op, keys)
        depth, keys = effect(op, depth, marks, keys, out)
    if r.random() < 0.9:
        while marks and r.random() < 0.8:
            out += r.choice([b"t", b"l", b"d", b"1"])
            depth = marks.pop()
            depth += 0 if out[-1:] == b"1" else 1
        if depth == 0:
            out += b"N"
        out += b"."
    return bytes(out)


def choose_valid(r, pool, depth, marks, keys):
    frame = depth - (marks[-1] if marks else 0)
    for _ in range(20):
        code = r.choice(pool)
        op = OPS[code]
        need = len([s for s in op.stack_before if s is not pickletools.markobject
                    and s is not pickletools.stackslice])
        if pickletools.markobject in op.stack_before and not marks:
            continue
        if need > frame and pickletools.markobject not in op.stack_before:
            continue
        if op.name in ("GET", "BINGET", "LONG_BINGET") and not keys:
            continue
        if op.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE") and frame == 0:
            continue
        return code
    return b"N"


def effect(op, depth, marks, keys, out):
    if op.name == "MARK":
        marks.append(depth)
        return depth, keys
    if pickletools.markobject in op.stack_before:
        if not marks:
            return depth, keys
        depth = marks.pop()
        depth -= op.stack_before.index(pickletools.markobject)
        return max(depth, 0) + len(op.stack_after), keys
    if op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
        keys = keys | {len(keys)}
        return depth, keys
    if op.name == "MEMOIZE":
        return depth, keys | {len(keys)}
    depth = max(depth - len(op.stack_before), 0) + len(op.stack_after)
    return depth, keys


class Local:
    def __init__(self, x):
        self.x = x


def random_object(r, depth=0):
    choices = ["int", "str", "bytes", "float", "none", "bool"]
    if depth < 3:
        choices += ["list", "dict", "tuple", "set", "local"]
    k = r.choice(choices)
    if k == "int":
        return r.choice([0, 1, -1, 255, 65536, 1 << 40, -(1 << 70)])
    if k == "str":
        return r.choice(["", "a", "é€", "x" * 300, "line\nbreak", "os"])
    if k == "bytes":
        return bytes(r.randrange(256) for _ in range(r.randint(0, 300)))
    if k == "float":
        return r.choice([0.5, -1e300, float("inf")])
    if k == "none":
        return None
    if k == "bool":
        return r.random() < 0.5
    if k == "list":
        x = [random_object(r, depth + 1) for _ in range(r.randint(0, 5))]
        if x and r.random() < 0.3:
            x.append(x[0])
        return x
    if k == "dict":
        return {str(i): random_object(r, depth + 1) for i in range(r.randint(0, 5))}
    if k == "tuple":
        return tuple(random_object(r, depth + 1) for _ in range(r.randint(0, 4)))
    if k == "set":
        return {r.randrange(100) for _ in range(r.randint(0, 4))}
    return Local(random_object(r, depth + 1))


def dumps(r):
    proto = r.randint(0, 5)
    obj = random_object(r)
    return pickle.dumps(obj, protocol=proto)


PREFIXES = [
    b"GGUF\x03\x00\x00\x00", b"GGUF\x03\x00\x00\x00\x00", b"\x93NUMPY\x01\x00", b"PK\x03\x04",
    b"PK\x03\x04\x14\x00\x00\x00\x00\x00\n", b"\x89HDF\r\n\x1a\n", b"N.\x00\x00\x00\x00\x00\x00{",
    b"{\"a\": 1}", b"# README\n", b"V\n0", b"K\x05.", b"\x80\x02",
]


def mutate(r, kind, base):
    b = bytearray(base)
    if kind == "truncated":
        return bytes(b[: r.randint(0, max(len(b) - 1, 0))])
    if kind == "byte-flip":
        for _ in range(r.randint(1, 3)):
            if b:
                i = r.randrange(len(b))
                b[i] = r.randrange(256) if r.random() < 0.5 else b[i] ^ (1 << r.randrange(8))
        return bytes(b)
    if kind == "insert-delete":
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(b) + 1)
            if r.random() < 0.5 and i < len(b):
                del b[i]
            else:
                b[i:i] = bytes([r.choice([r.randrange(256)] + list(b"().0Nt\n'"))])
        return bytes(b)
    if kind == "trailing-bytes":
        return bytes(b) + r.choice([b"\x00" * 8, b"junk\n", bytes(r.randrange(256) for _ in range(20)),
                                    b"PK\x05\x06" + b"\x00" * 18, b"."])
    if kind == "polyglot-prefix":
        return r.choice(PREFIXES) + bytes(b)
    raise AssertionError(kind)


def base_case(r):
    if r.random() < 0.5:
        return dumps(r)
    return walk(r)


def generate(r, category):
    if category == "dumps":
        return dumps(r)
    if category == "opcode-walk":
        return walk(r)
    if category == "first-opcode":
        return walk(r, first=r.choice(CODES))
    if category == "text-protocol-0":
        return walk(r, text_only=True)
    if category == "argument-forms":
        code = r.choice([c for c in CODES if OPS[c].arg is not None])
        return walk(r, first=code, length=r.randint(1, 4))
    if category == "pickle-run":
        run = b"".join(base_case(r) for _ in range(r.randint(2, 4)))
        return run + r.choice([b"", b"\x10\x00\x00\x00\x00\x00\x00\x00data", b"cos\nsystem\n"])
    return mutate(r, category, base_case(r))


def main():
    seed, count, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    for i, code in enumerate(EXT_CODES):
        try:
            copyreg.add_extension("ext_module_%d" % i, "ext_name", code)
        except ValueError:
            pass
    r = random.Random(seed)
    with open(out_path, "wb") as out:
        out.write(b"MSPK1\n")
        for i in range(count):
            category = CATEGORIES[i % len(CATEGORIES)]
            data = generate(r, category)
            flags = 0
            flags |= 1 if genops_stop(data) else 0
            flags |= 2 if dis_ok(data) else 0
            try:
                flags |= 4 if reaches_stop(CReader, data) else 0
                flags |= 8 if reaches_stop(PyReader, data) else 0
            except Timeout:
                flags |= 16
            out.write(struct.pack("<IBB", len(data), CATEGORIES.index(category), flags))
            out.write(data)


if __name__ == "__main__":
    main()
