#!/usr/bin/python3
"""Write the HDF5 test fixtures of package galaxy/data/hdf5 and what h5py reads back.

Regenerate (from the repository root, with Debian's python3, h5py and numpy):

    /usr/bin/python3 data/hdf5/testdata/gen.py

Every fixture is small (well under 50 KB). expected.json holds, per file, the
dataset paths, and per dataset its shape, NumPy dtype (little-endian), chunk
shape, filter pipeline and its elements as read by h5py (hex of the
little-endian bytes, compared element by element by the Go test), plus the
root string attributes. The files are deterministic apart from HDF5's own
bookkeeping; only the values in expected.json matter to the test.
"""

import ctypes
import ctypes.util
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FILTER_NAMES = {1: "deflate", 2: "shuffle", 3: "fletcher32"}


def path(name):
    return os.path.join(HERE, name)


def images(n, h, w, c, seed):
    """Smooth-ish uint8 images that compress like real cutouts."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, c), dtype=np.uint8)
    for i in range(n):
        for k in range(c):
            base = 120 + 100 * np.exp(-((x - w / 2) ** 2 + (y - h / 2) ** 2) / (2.0 + i % 5 + k))
            out[i, :, :, k] = np.clip(base + rng.integers(-6, 7, size=(h, w)), 0, 255)
    return out


def vlen_str():
    return h5py.string_dtype(encoding="utf-8")


def galaxy10_like(f, n, hw, seed, chunk_n):
    f.create_dataset("images", data=images(n, hw, hw, 3, seed), chunks=(chunk_n, hw, hw, 3),
                     compression="gzip", compression_opts=6)
    rng = np.random.default_rng(seed + 1)
    f.create_dataset("ans", data=rng.integers(0, 6, size=n).astype(np.uint8))
    f.create_dataset("objid", data=(587722981741363294 + np.arange(n, dtype=np.int64) * 1000003))
    f.attrs.create("class_names", np.array(["Elliptical", "Spiral clockwise", "Spiral anticlockwise",
                                            "Edge-on disk", "Don't know", "Merger"], dtype=object),
                   dtype=vlen_str())
    f.attrs["source"] = "synthetic Galaxy10-like fixture for the Go HDF5 reader tests"


def gen_contig():
    rng = np.random.default_rng(1)
    with h5py.File(path("contig.h5"), "w") as f:  # superblock 0, object header 1, layout 3
        f.create_dataset("images", data=images(4, 6, 5, 3, 2))
        f.create_dataset("u8", data=np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
        f.create_dataset("i8", data=rng.integers(-128, 128, size=7).astype(np.int8))
        f.create_dataset("i16", data=rng.integers(-30000, 30000, size=(3, 4)).astype(np.int16))
        f.create_dataset("u16", data=rng.integers(0, 65535, size=9).astype(np.uint16))
        f.create_dataset("i32", data=rng.integers(-2**31, 2**31 - 1, size=5).astype(np.int32))
        f.create_dataset("u32", data=rng.integers(0, 2**32 - 1, size=5, dtype=np.uint64).astype(np.uint32))
        f.create_dataset("i64", data=np.array([-2**63, -1, 0, 1, 2**63 - 1, 587722981741363294], dtype=np.int64))
        f.create_dataset("u64", data=np.array([0, 1, 2**64 - 1, 2**40 + 3], dtype=np.uint64))
        f.create_dataset("f32", data=rng.standard_normal(size=(2, 5)).astype(np.float32))
        f.create_dataset("f64", data=np.array([0.0, -0.0, 1.5, -2.25e300, 5e-324, np.pi]))
        f.create_dataset("scalar", data=np.float64(42.5))
        f.create_dataset("empty", shape=(0,), dtype=np.int32)
        f.create_dataset("flag", data=np.array([True, False, True]))
        f.create_dataset("never_written", shape=(3, 2), dtype=np.int16, fillvalue=-3)


def gen_chunked():
    with h5py.File(path("chunked.h5"), "w") as f:  # layout 3, v1 B-tree chunk index
        f.create_dataset("images", data=images(37, 9, 11, 3, 3), chunks=(8, 4, 5, 3),
                         compression="gzip", compression_opts=4)
        f.create_dataset("ans", data=(np.arange(37) % 6).astype(np.uint8), chunks=(10,), compression="gzip")
        rng = np.random.default_rng(4)
        f.create_dataset("shuffled", data=rng.standard_normal(size=(23, 7)), chunks=(5, 7),
                         compression="gzip", shuffle=True)
        f.create_dataset("fletcher", data=np.arange(-50, 51, dtype=np.int32).reshape(101), chunks=(16,),
                         shuffle=True, fletcher32=True, compression="gzip")
        f.create_dataset("fletcher_raw", data=np.arange(30, dtype=np.uint16), chunks=(7,), fletcher32=True)
        f.create_dataset("raw_chunks", data=np.arange(60, dtype=np.float32).reshape(6, 10), chunks=(4, 3))
        d = f.create_dataset("sparse", shape=(20, 20), dtype=np.int32, chunks=(6, 6), fillvalue=7,
                             compression="gzip")
        d[0:6, 0:6] = np.arange(36).reshape(6, 6)
        d[18:20, 13:17] = -1
        f.create_dataset("many_chunks", data=np.arange(150, dtype=np.uint16), chunks=(2,))
        g = f.create_group("big_group")
        for i in range(20):
            g.create_dataset("d%02d" % i, data=np.array([i], dtype=np.uint8))


def gen_bigendian():
    rng = np.random.default_rng(5)
    with h5py.File(path("bigendian.h5"), "w") as f:
        f.create_dataset("i16", data=rng.integers(-30000, 30000, size=(4, 3)).astype(">i2"))
        f.create_dataset("u32", data=rng.integers(0, 2**32 - 1, size=6, dtype=np.uint64).astype(">u4"))
        f.create_dataset("i64", data=np.array([-5, 587722981741363294, 2**62], dtype=">i8"))
        f.create_dataset("f32", data=rng.standard_normal(size=7).astype(">f4"))
        f.create_dataset("f64", data=rng.standard_normal(size=(3, 3)).astype(">f8"))
        f.create_dataset("f64_chunked", data=rng.standard_normal(size=(11, 4)).astype(">f8"), chunks=(4, 4),
                         compression="gzip", shuffle=True)
        f.create_dataset("i32_fill", shape=(5,), dtype=">i4", chunks=(2,), fillvalue=-70000)
        f["i32_fill"][0:2] = [1, 2]


def gen_latest():
    rng = np.random.default_rng(6)
    with h5py.File(path("latest.h5"), "w", libver="latest") as f:  # superblock 3, OHDR v2, layout 4
        f.create_dataset("contig", data=np.arange(12, dtype=np.int16).reshape(3, 4))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        f.create_dataset("compact", data=np.arange(10, dtype=np.float64) / 4, dcpl=dcpl)
        f.create_dataset("single", data=np.arange(20, dtype=np.uint8).reshape(4, 5), chunks=(4, 5))
        f.create_dataset("single_gzip", data=images(3, 5, 5, 3, 7), chunks=(3, 5, 5, 3), compression="gzip")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        f.create_dataset("implicit", data=np.arange(35, dtype=np.int32).reshape(5, 7), chunks=(2, 3), dcpl=dcpl)
        f.create_dataset("fixed", data=images(10, 6, 6, 3, 8), chunks=(4, 6, 6, 3))
        f.create_dataset("fixed_gzip", data=images(10, 6, 6, 3, 9), chunks=(3, 6, 6, 3),
                         compression="gzip", shuffle=True)
        f.create_dataset("fixed_maxshape", data=np.arange(30, dtype=np.int16).reshape(5, 6), chunks=(2, 4),
                         maxshape=(9, 10))
        d = f.create_dataset("ext", shape=(0, 4, 4, 3), maxshape=(None, 4, 4, 3), chunks=(2, 4, 4, 3),
                             dtype=np.uint8)
        d.resize((9, 4, 4, 3))
        d[...] = images(9, 4, 4, 3, 10)
        d = f.create_dataset("ext_gzip", shape=(0,), maxshape=(None,), chunks=(3,), dtype=np.int64,
                             compression="gzip")
        d.resize((50,))
        d[...] = np.arange(50, dtype=np.int64) * -7
        d = f.create_dataset("ext_dim1", shape=(3, 5), maxshape=(3, None), chunks=(2, 2), dtype=np.float32)
        d[...] = rng.standard_normal(size=(3, 5))
        d = f.create_dataset("ext_sparse", shape=(40,), maxshape=(None,), chunks=(4,), dtype=np.int16,
                             fillvalue=9)
        d[20:24] = [1, 2, 3, 4]
        d = f.create_dataset("btree2", shape=(7, 9), maxshape=(None, None), chunks=(2, 4), dtype=np.uint16)
        d[...] = np.arange(63).reshape(7, 9)
        d = f.create_dataset("btree2_gzip", shape=(9, 9), maxshape=(None, None), chunks=(2, 3),
                             dtype=np.float64, compression="gzip")
        d[...] = rng.standard_normal(size=(9, 9))
        g = f.create_group("grp")
        g.create_dataset("x", data=np.array([1.5, 2.5], dtype=np.float32))
        g.create_group("sub").create_dataset("y", data=np.array([[1, 2], [3, 4]], dtype=np.int64))
        dense = f.create_group("dense")  # more than 8 links: fractal heap + v2 B-tree
        for i in range(12):
            dense.create_dataset("link%02d" % i, data=np.array([i, -i], dtype=np.int32))
        for i in range(12):  # more than 8 attributes: dense attribute storage
            f.attrs["attr%02d" % i] = np.arange(i + 1)
        f.attrs.create("class_names", np.array(["a", "bb", "ccc"], dtype=object), dtype=vlen_str())


def gen_latest_index():
    with h5py.File(path("latest_index.h5"), "w", libver="latest") as f:  # chunk indexes with many chunks
        f.create_dataset("fixed_paged", data=(np.arange(1100) % 251).astype(np.uint8), chunks=(1,))
        d = f.create_dataset("ext_many", shape=(260,), maxshape=(None,), chunks=(1,), dtype=np.uint8)
        d[...] = (np.arange(260) * 3) % 256
        d = f.create_dataset("btree2_deep", shape=(10, 10), maxshape=(None, None), chunks=(1, 1), dtype=np.uint8)
        d[...] = np.arange(100).reshape(10, 10)


def gen_v108():
    with h5py.File(path("v108.h5"), "w", libver=("v108", "v108")) as f:  # superblock 2, OHDR v2, layout 3
        f.create_dataset("images", data=images(5, 4, 4, 3, 11), chunks=(2, 4, 4, 3), compression="gzip")
        f.create_dataset("ans", data=np.array([0, 1, 2, 3, 4], dtype=np.uint8))
        f.create_group("g").create_dataset("z", data=np.arange(6, dtype=np.uint32))


def gen_super1():
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    # A non-default chunk B-tree K makes superblock version 1; h5py has no
    # binding for it, so call the HDF5 library h5py itself uses.
    lib = ctypes.CDLL(ctypes.util.find_library("hdf5_serial") or "libhdf5_serial.so.103")
    if lib.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(8)) < 0:
        raise RuntimeError("H5Pset_istore_k failed")
    fcpl.set_userblock(512)  # superblock at offset 512, addresses relative to it
    fcpl.set_sizes(4, 4)  # 4-byte offsets and lengths
    fid = h5py.h5f.create(path("super1.h5").encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.create_dataset("v", data=np.arange(100, dtype=np.int32), chunks=(3,))  # deep v1 B-tree
        f.create_dataset("w", data=np.arange(12, dtype=np.float32).reshape(3, 4))


def gen_attrs():
    with h5py.File(path("attrs.h5"), "w") as f:
        galaxy10_like(f, 6, 5, 12, 4)
        f.attrs["fixed_names"] = np.array([b"alpha", b"beta", b"gamma"], dtype="S6")
        f.attrs["scalar_int"] = np.int64(5)
        f.attrs["floats"] = np.arange(5, dtype=np.float32)
        f.attrs.create("one_vlen", "a single variable-length string", dtype=vlen_str())
        d = f["ans"]
        for i in range(30):  # spill the dataset's header into continuation blocks
            d.attrs["note%02d" % i] = "unneeded attribute %d " % i * 3
            d.attrs["arr%02d" % i] = np.arange(i % 7 + 1, dtype=np.float64)


def gen_galaxy10():
    with h5py.File(path("galaxy10_small.h5"), "w") as f:  # the layout of the real files
        galaxy10_like(f, 24, 10, 13, 16)


def describe(name):
    out = {"datasets": {}, "names": [], "attrs": {}}
    with h5py.File(path(name), "r") as f:
        def visit(p, obj):
            if isinstance(obj, h5py.Dataset):
                out["names"].append(p)
        f.visititems(visit)
        out["names"].sort()
        for p in out["names"]:
            d = f[p]
            a = d[()]
            a = np.asarray(a)
            if a.dtype == np.bool_:
                dt = "bool"
            else:
                a = a.astype(a.dtype.newbyteorder("<"))
                dt = a.dtype.name
            dcpl = d.id.get_create_plist()
            filters = [FILTER_NAMES.get(dcpl.get_filter(i)[0], str(dcpl.get_filter(i)[0]))
                       for i in range(dcpl.get_nfilters())]
            out["datasets"][p] = {
                "shape": list(d.shape),
                "dtype": dt,
                "chunks": list(d.chunks) if d.chunks else None,
                "filters": filters,
                "hex": a.tobytes().hex(),
            }
        for k, v in f.attrs.items():
            v = np.asarray(v)
            if v.dtype.kind in "OSU":
                vals = [x.decode() if isinstance(x, bytes) else str(x) for x in v.reshape(-1)]
                out["attrs"][k] = vals
    return out


def main():
    gens = {
        "contig.h5": gen_contig,
        "chunked.h5": gen_chunked,
        "bigendian.h5": gen_bigendian,
        "latest.h5": gen_latest,
        "latest_index.h5": gen_latest_index,
        "v108.h5": gen_v108,
        "super1.h5": gen_super1,
        "attrs.h5": gen_attrs,
        "galaxy10_small.h5": gen_galaxy10,
    }
    expected = {}
    for name, gen in gens.items():
        gen()
        expected[name] = describe(name)
        print("%-20s %6d bytes" % (name, os.path.getsize(path(name))))
    with open(path("expected.json"), "w") as fp:
        json.dump(expected, fp, indent=1, sort_keys=True)
        fp.write("\n")


if __name__ == "__main__":
    main()
