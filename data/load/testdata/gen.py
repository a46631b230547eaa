"""Writes the small fixtures of package data's tests.

Run with Debian's python3 (python3-numpy, python3-h5py):

    /usr/bin/python3 data/testdata/gen.py

course_small.pkl.gz  the course's tuple (train_images, train_labels, test_images,
                     test_labels) at protocol 4, gzipped: 12 + 4 images of 6x6x1
                     uint8, one-hot float64 labels over 5 classes
wrong_shape.pkl      a course tuple whose train labels have one row too few
flat_images.pkl      a course tuple whose images are flattened (N, 36)
no_images.h5         an HDF5 file with `ans` but no `images`
"""
import gzip
import os
import pickle

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)


def onehot(codes, k=5):
    out = np.zeros((len(codes), k), dtype=np.float64)
    out[np.arange(len(codes)), codes] = 1
    return out


tr_codes = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 0])
te_codes = np.array([1, 2, 3, 0])
tr = rng.integers(0, 256, size=(12, 6, 6, 1), dtype=np.uint8)
te = rng.integers(0, 256, size=(4, 6, 6, 1), dtype=np.uint8)
with open(os.path.join(here, "course_small.pkl.gz"), "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        pickle.dump((tr, onehot(tr_codes), te, onehot(te_codes)), f, protocol=4)
with open(os.path.join(here, "wrong_shape.pkl"), "wb") as f:
    pickle.dump((tr, onehot(tr_codes[:-1]), te, onehot(te_codes)), f, protocol=4)
with open(os.path.join(here, "flat_images.pkl"), "wb") as f:
    pickle.dump((tr.reshape(12, 36), onehot(tr_codes), te.reshape(4, 36), onehot(te_codes)), f, protocol=4)
with h5py.File(os.path.join(here, "no_images.h5"), "w") as f:
    f.create_dataset("ans", data=np.array([0, 1, 2], dtype=np.uint8))
    f.create_dataset("pictures", data=np.zeros((3, 4, 4, 3), dtype=np.uint8))
# Expected pixel sums, checked by the Go test.
print("course_small train sum", int(tr.sum()), "test sum", int(te.sum()))
