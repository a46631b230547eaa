#!/usr/bin/python3
"""Extract the Galaxy10-recipe pixels of a few catalogued cutouts as a fixture.

For the first galaxy of each GZ1 class 0, 1, 2, 3 and 5 in
gz1_cutouts/catalog.csv, copy its 69x69x3 image from gz1_sdss_69.h5 (matched by
objid) into expected_69.bin (5 x 69 x 69 x 3 uint8, C order) and list the JPEG
file names, one a line, in expected_files.txt. TestPrepareMatchesHDF5 prepares
those JPEGs and compares.

Run from this folder with Debian's python, which has h5py:

    /usr/bin/python3 expected_gen.py [path/to/shared/data]

(default: ../../../../shared/data, i.e. shared/data beside the repository).
"""
import csv
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared/data")
with open(os.path.join(data, "gz1_cutouts/catalog.csv")) as f:
    rows = list(csv.DictReader(f))
picked = []
for cls in ("0", "1", "2", "3", "5"):
    picked.append(next(r for r in rows if r["gz1_class"] == cls))

with h5py.File(os.path.join(data, "gz1_sdss_69.h5"), "r") as h:
    index = {int(o): i for i, o in enumerate(h["objid"][:])}
    images = np.stack([h["images"][index[int(r["objid"])]] for r in picked])
assert images.shape == (len(picked), 69, 69, 3) and images.dtype == np.uint8
images.tofile(os.path.join(here, "expected_69.bin"))
with open(os.path.join(here, "expected_files.txt"), "w") as f:
    for r in picked:
        f.write(r["file"] + "\n")
print("wrote %d images" % len(picked))
