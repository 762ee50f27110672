"""Running the Rust oracles of the solver tests: the examples of this crate, built with cargo
(a no-op when up to date) and run in a temporary directory."""

import os
import pathlib
import subprocess

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[3]


def example(name):
    """Build the example ``name`` of pilqr-py (debug profile) and return its path."""
    subprocess.run(
        ["cargo", "build", "-q", "-p", "pilqr-py", "--example", name],
        cwd=ROOT,
        check=True,
    )
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "examples" / name


def load_arrays(directory):
    """The arrays an oracle wrote: ``{name: array}`` from ``manifest.txt`` and ``NAME.f64``."""
    arrays = {}
    for line in (directory / "manifest.txt").read_text().splitlines():
        name, *shape = line.split()
        data = np.fromfile(directory / f"{name}.f64", dtype="<f8")
        arrays[name] = data.reshape([int(s) for s in shape])
    return arrays
