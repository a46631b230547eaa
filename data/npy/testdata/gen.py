"""Generate the .npy/.npz fixtures of package galaxy/data/npy.

Regenerate (from the repository root) with Debian's Python, which has numpy:

    /usr/bin/python3 data/npy/testdata/gen.py

It rewrites data/npy/testdata/*.npy, *.npz and expected.json. expected.json
maps each file name to what the Go reader must return: for an array its
shape, its Go dtype name and "hex", the C-order little-endian element bytes as
numpy computes them (so the comparison is exact, NaNs included); for an npz
the member names in order and the arrays; for a file that must be refused,
"error", a substring of the expected error message.
"""

import io
import json
import os
import struct
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {}

GO_NAMES = {
    "u1": "uint8", "i1": "int8", "b1": "bool", "u2": "uint16", "i2": "int16",
    "u4": "uint32", "i4": "int32", "u8": "uint64", "i8": "int64",
    "f4": "float32", "f8": "float64",
}


def describe(a):
    le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False)
    return {
        "shape": list(a.shape),
        "dtype": GO_NAMES[a.dtype.str[1:]],
        "hex": le.tobytes(order="C").hex(),
    }


def save(name, a, version=None):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version, allow_pickle=True)
    # Check the fixture round-trips through numpy itself.
    b = np.load(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    assert np.array_equal(b, a, equal_nan=a.dtype.kind == "f")
    expected[name] = describe(a)


def values(code, n):
    """n values of dtype code spanning its range, extremes included."""
    dt = np.dtype(code)
    if dt.kind == "b":
        return np.array([(i * 7) % 3 == 0 for i in range(n)], dtype=dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        base = [info.min, info.max, 0, 1, info.max // 3, info.min // 5 + 1]
        return np.array([base[i % len(base)] - (i // len(base)) * (1 if base[i % len(base)] > info.min else -1)
                         for i in range(n)], dtype=dt)
    base = [0.0, -0.0, 1.5, -2.25, np.finfo(dt).max, np.finfo(dt).tiny, np.inf, -np.inf, np.nan, 1e-3, 3.14159]
    return np.array([base[i % len(base)] for i in range(n)], dtype=dt)


def main():
    for f in os.listdir(HERE):
        if f.endswith((".npy", ".npz")):
            os.remove(os.path.join(HERE, f))

    # Every dtype, little-endian (or '|'), and big-endian.
    for code in GO_NAMES:
        a = values(code, 12).reshape(3, 4)
        save("le_%s.npy" % code, a)
        if a.dtype.itemsize > 1:
            save("be_%s.npy" % code, a.astype(a.dtype.newbyteorder(">")))

    # Fortran order, several ranks and element sizes, one big-endian.
    save("fortran_f8.npy", np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4) / 4))
    save("fortran_u1.npy", np.asfortranarray(np.arange(24, dtype="u1").reshape(2, 3, 4)))
    save("fortran_be_i2.npy", np.asfortranarray((np.arange(30, dtype=">i2") - 15).reshape(2, 3, 5)))
    save("fortran_1d_f4.npy", np.asfortranarray(np.arange(5, dtype="<f4")))

    # 0-d, 1-d, empty.
    save("scalar_f8.npy", np.array(3.5))
    save("scalar_u1.npy", np.array(200, dtype="u1"))
    save("vector_i4.npy", np.arange(-3, 4, dtype="<i4"))
    save("empty_f4.npy", np.zeros((0,), dtype="<f4"))
    save("empty_3d_u2.npy", np.zeros((2, 0, 3), dtype=">u2"))
    save("images_u1.npy", np.arange(2 * 5 * 5, dtype="u1").reshape(2, 5, 5, 1))

    # Format versions 2.0 and 3.0.
    save("v2_i8.npy", values("i8", 6).reshape(2, 3), version=(2, 0))
    save("v3_f4.npy", values("f4", 6).reshape(3, 2), version=(3, 0))

    # A Python-2 era header: shape with long suffixes.
    a = np.arange(6, dtype="<i2").reshape(2, 3)
    hdr = b"{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 3L), }"
    hdr += b" " * (63 - (10 + len(hdr)) % 64) + b"\n"
    with open(os.path.join(HERE, "py2_header.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + a.tobytes())
    expected["py2_header.npy"] = describe(a)

    # Unsupported dtypes must be refused with the dtype named.
    bad = {
        "bad_object.npy": (np.array([1, "a", None], dtype=object), "'|O'"),
        "bad_unicode.npy": (np.array(["ab", "c"]), "'<U2'"),
        "bad_bytes.npy": (np.array([b"ab", b"c"]), "'|S2'"),
        "bad_f2.npy": (np.arange(3, dtype="<f2"), "'<f2'"),
        "bad_c16.npy": (np.arange(3, dtype="<c16"), "'<c16'"),
        "bad_struct.npy": (np.zeros(2, dtype=[("x", "<f4"), ("y", "u1")]), "structured"),
    }
    for name, (a, msg) in bad.items():
        with open(os.path.join(HERE, name), "wb") as f:
            np.lib.format.write_array(f, a, allow_pickle=True)
        expected[name] = {"error": msg}

    # npz, stored and deflated; names in archive order.
    members = {
        "train_images": np.arange(2 * 4 * 4, dtype="u1").reshape(2, 4, 4, 1),
        "train_labels": np.eye(5, dtype="<f8")[[1, 3]],
        "z_scalar": np.array(7, dtype="<i8"),
        "a_fortran": np.asfortranarray(np.arange(6, dtype=">f4").reshape(2, 3)),
    }
    for name, fn in (("stored.npz", np.savez), ("compressed.npz", np.savez_compressed)):
        path = os.path.join(HERE, name)
        fn(path, **members)
        with np.load(path) as z:
            names = [n[:-4] for n in zipfile.ZipFile(path).namelist()]
            for n in names:
                assert np.array_equal(z[n], members[n])
        expected[name] = {"names": names, "arrays": {n: describe(members[n]) for n in names}}

    # An npz with a member that is not an array.
    path = os.path.join(HERE, "bad_member.npz")
    with zipfile.ZipFile(path, "w") as z:
        buf = io.BytesIO()
        np.save(buf, np.arange(3, dtype="u1"))
        z.writestr("ok.npy", buf.getvalue())
        z.writestr("notes.txt", b"hello")
    expected["bad_member.npz"] = {"error": "notes.txt"}

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
