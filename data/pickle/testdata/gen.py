"""Generate the pickle fixtures of package galaxy/data/pickle.

Regenerate (from the repository root) with Debian's Python, which has numpy
(the pyenv python3 on PATH has none):

    /usr/bin/python3 data/pickle/testdata/gen.py

It rewrites data/pickle/testdata/*.pkl, *.pkl.gz and expected.json. Every
fixture is loaded back with Python's own pickle before it is written, so the
expected values are what Python and numpy make of it.

expected.json has "values", tagged values by id, and "files", which maps each
file name to
  "value":  the id of the Load result, tagged: null (None), {"bool": b}, {"int": "decimal"},
            {"float": float.hex()}, {"str": s}, {"bytes": hex}, {"list": [...]}
            (tuple or list), {"dict": [[key, value], ...]}, {"array": {"shape",
            "dtype" (Go name), "hex" (C-order little-endian element bytes)}},
            {"dtype": Go name};
  "arrays": true when ReadArrays returns the arrays of the value, or
  "arrays_error", a substring of its error;
  "error":  a substring of the error both Load and ReadArrays must return.
Files ending in .gz are gzipped pickles: Load gets them decompressed.
"""

import gzip
import json
import os
import pickle
import pickletools
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {"values": {}, "files": {}}
value_ids = {}

GO_NAMES = {
    "u1": "uint8", "i1": "int8", "b1": "bool", "u2": "uint16", "i2": "int16",
    "u4": "uint32", "i4": "int32", "u8": "uint64", "i8": "int64",
    "f4": "float32", "f8": "float64",
}


def describe(a):
    le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False)
    return {"shape": list(a.shape), "dtype": GO_NAMES[a.dtype.str[1:]], "hex": le.tobytes(order="C").hex()}


def tag(v):
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return {"bool": bool(v)}
    if isinstance(v, (int, np.integer)):
        return {"int": str(int(v))}
    if isinstance(v, (float, np.floating)):
        return {"float": float(v).hex()}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tag(k), tag(x)] for k, x in v.items()]}
    if isinstance(v, np.ndarray):
        return {"array": describe(v)}
    if isinstance(v, np.dtype):
        return {"dtype": GO_NAMES[v.str[1:]]}
    raise TypeError(type(v))


def same(a, b):
    """Deep equality of Python/numpy values, NaNs equal, types checked."""
    a = a.item() if isinstance(a, np.generic) else a
    b = b.item() if isinstance(b, np.generic) else b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        # Values, not byte order: numpy itself loads '>i2' data as '<i2'.
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype.str[1:] == b.dtype.str[1:] and describe(a) == describe(b))
    if isinstance(a, (list, tuple)):
        return type(a) == type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) == dict and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) == type(b) and a == b


def write(name, data, value=None, compare=True, arrays_error=None, error=None, encoding="ASCII"):
    """Write a fixture; value is the Python value data must load to."""
    if compare:
        got = pickle.loads(data, encoding=encoding)
        assert same(got, value), (name, got, value)
    path = os.path.join(HERE, name)
    if name.endswith(".gz"):
        with open(path, "wb") as f:
            # mtime=0 keeps regenerated files identical.
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    e = {}
    if error is not None:
        e["error"] = error
    else:
        t = tag(value)
        key = json.dumps(t, sort_keys=True)
        if key not in value_ids:
            value_ids[key] = "v%d" % len(value_ids)
            expected["values"][value_ids[key]] = t
        e["value"] = value_ids[key]
        if arrays_error is not None:
            e["arrays_error"] = arrays_error
        else:
            e["arrays"] = True  # ReadArrays returns the arrays of value
    expected["files"][name] = e


def course(n_train=6, n_test=2, label_dtype="<f8", seed=1):
    rng = np.random.default_rng(seed)
    ti = rng.integers(0, 256, size=(n_train, 5, 5, 1), dtype=np.uint8)
    tl = np.eye(5, dtype=label_dtype)[rng.integers(0, 5, size=n_train)]
    vi = rng.integers(0, 256, size=(n_test, 5, 5, 1), dtype=np.uint8)
    vl = np.eye(5, dtype=label_dtype)[rng.integers(0, 5, size=n_test)]
    return (ti, tl, vi, vl)


# --- Python 2 style pickles, written opcode by opcode as numpy on Python 2.7
# did: dtype names, byte orders and the data are Python 2 str (STRING,
# SHORT_BINSTRING, BINSTRING), and globals are memoized and fetched again.

class Py2Writer:
    def __init__(self, proto):
        self.proto = proto
        self.out = bytearray(b"\x80\x02" if proto == 2 else b"")
        self.memo = {}

    def put(self):
        i = len(self.memo) + 100
        self.memo[i] = True
        if self.proto == 2:
            self.out += b"q" + bytes([i])
        else:
            self.out += b"p%d\n" % i
        return i

    def glob(self, mod, name):
        key = (mod, name)
        if key in self.memo:
            i = self.memo[key]
            self.out += (b"h" + bytes([i])) if self.proto == 2 else (b"g%d\n" % i)
            return
        self.out += b"c%s\n%s\n" % (mod.encode(), name.encode())
        self.memo[key] = self.put()

    def int(self, v):
        if self.proto == 2:
            if 0 <= v < 256:
                self.out += b"K" + bytes([v])
            else:
                self.out += b"J" + struct.pack("<i", v)
        else:
            self.out += b"I%d\n" % v

    def bool(self, v):
        if self.proto == 2:
            self.out += b"\x88" if v else b"\x89"
        else:
            self.out += b"I01\n" if v else b"I00\n"

    def str(self, b):
        if self.proto == 2:
            if len(b) < 256:
                self.out += b"U" + bytes([len(b)]) + b
            else:
                self.out += b"T" + struct.pack("<i", len(b)) + b
        else:
            self.out += b"S" + repr(bytes(b))[1:].encode("latin1") + b"\n"

    def tuple(self, emit_items):
        self.out += b"("
        for f in emit_items:
            f()
        self.out += b"t"
        self.put()

    def array(self, a):
        fortran = a.flags.f_contiguous and not a.flags.c_contiguous
        raw = a.tobytes(order="F" if fortran else "C")
        self.glob("numpy.core.multiarray", "_reconstruct")
        self.tuple([lambda: self.glob("numpy", "ndarray"),
                    lambda: self.tuple([lambda: self.int(0)]),
                    lambda: self.str(b"b")])
        self.out += b"R"
        self.put()
        self.tuple([
            lambda: self.int(1),
            lambda: self.tuple([(lambda d: lambda: self.int(d))(d) for d in a.shape]),
            lambda: self.dtype(a.dtype),
            lambda: self.bool(fortran),
            lambda: self.str(raw),
        ])
        self.out += b"b"

    def dtype(self, dt):
        self.glob("numpy", "dtype")
        self.tuple([lambda: self.str(dt.str[1:].encode()), lambda: self.int(0), lambda: self.int(1)])
        self.out += b"R"
        self.put()
        self.tuple([lambda: self.int(3), lambda: self.str(dt.str[:1].encode()),
                    lambda: self.out.extend(b"NNN"), lambda: self.int(-1), lambda: self.int(-1),
                    lambda: self.int(0)])
        self.out += b"b"

    def top(self, arrays):
        self.tuple([(lambda a: lambda: self.array(a))(a) for a in arrays])
        self.out += b"."
        return bytes(self.out)


def numpy2(data):
    """The same pickle as NumPy 2 writes it: numpy._core instead of numpy.core."""
    for old in (b"numpy.core.multiarray", b"numpy.core.numeric"):
        new = old.replace(b"numpy.core", b"numpy._core")
        data = data.replace(b"c" + old + b"\n", b"c" + new + b"\n")
        data = data.replace(b"\x8c" + bytes([len(old)]) + old, b"\x8c" + bytes([len(new)]) + new)
    # Re-frame (frame lengths changed) and check it still parses.
    return pickletools.optimize(data)


def with_numpy2_modules(f):
    import numpy.core.multiarray
    import numpy.core.numeric
    mods = {"numpy._core": np.core, "numpy._core.multiarray": np.core.multiarray,
            "numpy._core.numeric": np.core.numeric}
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        return f()
    finally:
        for k, v in saved.items():
            if v is None:
                del sys.modules[k]
            else:
                sys.modules[k] = v


class Evil:
    def __init__(self, f, *args):
        self.f, self.args = f, args

    def __reduce__(self):
        return (self.f, self.args)


class Plain:
    pass


def main():
    for f in os.listdir(HERE):
        if f.endswith((".pkl", ".pkl.gz")):
            os.remove(os.path.join(HERE, f))

    # The course's tuple at every protocol, plain and gzipped.
    c = course()
    for p in range(6):
        data = pickle.dumps(c, protocol=p)
        write("course_p%d.pkl" % p, data, c)
        if p >= 2:
            write("course_p%d.pkl.gz" % p, data, c)
    c32 = course(label_dtype="<f4", seed=2)
    write("course_f32_p4.pkl", pickle.dumps(c32, protocol=4), c32)
    write("course_list_p3.pkl", pickle.dumps(list(c), protocol=3), list(c))

    # Python 2 style (numpy on Python 2.7), protocols 2 and 0; Python 3
    # reads them with encoding='latin1'.
    c2 = course(seed=3)
    py2 = Py2Writer(2).top(c2)
    write("course_py2_p2.pkl", py2, c2, encoding="latin1")
    write("course_py2_p2.pkl.gz", py2, c2, encoding="latin1")
    big = np.arange(300, dtype=">i2").reshape(3, 100)  # BINSTRING (>255 bytes), big-endian
    fort = np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4))
    write("py2_misc_p2.pkl", Py2Writer(2).top([big, fort]), (big, fort), encoding="latin1")
    write("course_py2_p0.pkl", Py2Writer(0).top(c2), c2, encoding="latin1")

    # NumPy 2 module names.
    for p in (2, 5):
        data = numpy2(pickle.dumps(c, protocol=p))
        assert b"numpy._core" in data and b"numpy.core" not in data
        with_numpy2_modules(lambda: write("course_np2_p%d.pkl" % p, data, c))

    # Every dtype, both byte orders, Fortran order, 0-d and empty arrays.
    arrs = []
    for code in GO_NAMES:
        a = (np.arange(12) * 37 - 100).astype(code).reshape(3, 4)
        if code == "b1":
            a = (np.arange(12) % 3 == 0).reshape(3, 4)
        arrs.append(a)
        if a.dtype.itemsize > 1:
            arrs.append(a.astype(a.dtype.newbyteorder(">")))
    arrs.append(np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310, np.finfo("f8").max]))
    arrs.append(np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
    arrs.append(np.asfortranarray(np.arange(24, dtype=">u2").reshape(4, 6)))
    arrs.append(np.asfortranarray(np.arange(6, dtype="u1").reshape(2, 3)))
    arrs.append(np.array(2.5))
    arrs.append(np.array(7, dtype=">i4"))
    arrs.append(np.zeros((0,), dtype="<f8"))
    arrs.append(np.zeros((3, 0, 2), dtype="u1"))
    ro = np.arange(5, dtype="<i8")
    ro.flags.writeable = False  # protocol 5: bytes, not a bytearray
    arrs.append(ro)
    for p in (0, 2, 3, 4, 5):
        write("arrays_p%d.pkl" % p, pickle.dumps(arrs, protocol=p), arrs)

    # Python values and numpy scalars.
    values = {
        "none": None, "t": True, "f": False, "small": 7, "neg": -123456, "i32": 2**31 - 1,
        "i64": 2**63 - 1, "min64": -2**63, "long": 2**40, "float": 2.5, "nan": float("nan"),
        "inf": float("-inf"), "str": "héllo, wörld ☃", "empty": "", "bytes": b"\x00\xffab",
        "bytearray": bytearray(b"\x01\x02\x80"), "list": [1, [2, [3, []]], ()], "tuple": (1, "a", None),
        1: "int key", 2.5: "float key", None: "none key", True: "true key",
        "scalars": [np.float64(1.25), np.float32(-0.5), np.int32(-7), np.uint8(200), np.int64(-2**40),
                    np.uint64(2**63 - 1), np.bool_(True), np.bool_(False), np.uint16(65535), np.int8(-128)],
        "dtypes": [np.dtype("<f8"), np.dtype("u1")],
        "array": np.arange(4, dtype="<i2"),
    }
    shared = [1, 2]
    values["shared"] = (shared, shared)
    for p in (0, 1, 2, 3, 4, 5):
        write("values_p%d.pkl" % p, pickle.dumps(values, protocol=p), values, arrays_error="got dict")
    write("mixed_p2.pkl", pickle.dumps((np.arange(3, dtype="u1"), 5), protocol=2),
          (np.arange(3, dtype="u1"), 5), arrays_error="element 1 is int")
    write("dict_p4.pkl", pickle.dumps({"images": np.arange(3, dtype="u1")}, protocol=4),
          {"images": np.arange(3, dtype="u1")}, arrays_error="want a tuple of arrays, got dict")
    write("scalar_p4.pkl", pickle.dumps(np.float64(3.5), protocol=4), 3.5, arrays_error="got float")

    # Unsafe or unsupported pickles: refused, with the culprit named.
    refused = {
        "evil_system_p2.pkl": (pickle.dumps(Evil(os.system, "echo pwned"), protocol=2), "global posix.system is not allowed"),
        "evil_system_p4.pkl": (pickle.dumps(Evil(os.system, "echo pwned"), protocol=4), "global posix.system is not allowed"),
        "evil_system_p0.pkl": (pickle.dumps(Evil(os.system, "echo pwned"), protocol=0), "global posix.system is not allowed"),
        "evil_eval_p3.pkl": (pickle.dumps(Evil(eval, "1+1"), protocol=3), "global builtins.eval is not allowed"),
        "evil_inst_p0.pkl": (b"(S'echo pwned'\nios\nsystem\n.", "global os.system is not allowed"),
        "evil_in_tuple_p2.pkl": (pickle.dumps((np.arange(3), Evil(os.system, "echo pwned")), protocol=2), "posix.system"),
        "evil_getattr_p4.pkl": (pickle.dumps(Evil(getattr, Plain, "__init__"), protocol=4), "builtins.getattr is not allowed"),
        "copyreg_p0.pkl": (pickle.dumps(Plain(), protocol=0), "global copy_reg._reconstructor is not allowed"),
        "class_p2.pkl": (pickle.dumps(Plain(), protocol=2), "global __main__.Plain is not allowed"),
        "matrix_p2.pkl": (pickle.dumps(np.matrix([[1, 2]]), protocol=2), "numpy.matrix is not allowed"),
        "object_array_p2.pkl": (pickle.dumps(np.array([1, "a"], dtype=object), protocol=2), "'O8'"),
        "string_array_p4.pkl": (pickle.dumps(np.array(["ab"]), protocol=4), "'U2'"),
        "complex_p4.pkl": (pickle.dumps(np.arange(3, dtype="c16"), protocol=4), "'c16'"),
        "bigint_p2.pkl": (pickle.dumps((2**70,), protocol=2), "big integers"),
        "set_p4.pkl": (pickle.dumps({1, 2}, protocol=4), "sets are not supported"),
        "newobj_p2.pkl": (b"\x80\x02cnumpy\ndtype\n)\x81.", "NEWOBJ of numpy.dtype"),
        "tuple_key_p2.pkl": (pickle.dumps({(1, 2): 3}, protocol=2), "dict key of type tuple"),
    }
    for name, (data, msg) in refused.items():
        write(name, data, compare=False, error=msg)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
