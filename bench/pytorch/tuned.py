"""PyTorch at its best on this machine: glibc's allocator tuned.

With glibc's default allocator, Debian's PyTorch 1.13 returns its large
buffers to the system after every step and trains galaxy's cnn-ref 6-8x
slower here (about 61 images/s against 391-473). ensure() re-executes the
running script with MALLOC_MMAP_THRESHOLD_=1000000000 and
MALLOC_TRIM_THRESHOLD_=1000000000 (what jemalloc or tcmalloc give) unless
they are set; GALAXY_TORCH_DEFAULT_MALLOC=1 keeps the untuned configuration.
Call it before importing torch: glibc reads the variables at start.
"""
import os
import sys

TUNED = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "1000000000"}


def ensure():
    if os.environ.get("GALAXY_TORCH_DEFAULT_MALLOC") != "1" and any(os.environ.get(k) != v for k, v in TUNED.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **TUNED})


def settings():
    """The allocator settings the process runs with, for the record."""
    return {k: os.environ.get(k, "glibc default") for k in TUNED}
