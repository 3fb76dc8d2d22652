# SPDX-License-Identifier: GPL-2.0-only
"""What every seed script shares: writing its seeds as OUTDIR/seed-NAME."""

import pathlib
import sys


def write_seeds(seeds):
    """seeds: {name: bytes}; the directory is the script's argument."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (out / f"seed-{name}").write_bytes(data)
