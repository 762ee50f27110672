"""``pilqr.run_experiment`` against ``pilqr train`` of the same experiment (the command as
this package links it: pilqr-experiment without libtorch, the binary ``make test-python``
builds, or ``$PILQR_BIN``): the same metrics, bit for bit."""

import csv
import os
import subprocess
from pathlib import Path

import pytest

import pilqr
from rust_oracle import ROOT

SMOKE = ROOT / "experiments" / "point_mass_smoke.toml"


def pilqr_binary():
    """The pilqr command without libtorch: $PILQR_BIN, else the build of make test-python."""
    path = Path(os.environ.get("PILQR_BIN", ROOT / "target" / "debug" / "pilqr"))
    if not path.is_file():
        pytest.fail(f"no pilqr binary at {path}: run `make test-python`, or set PILQR_BIN")
    return path


def metrics(run_dir):
    """The rows of ``metrics.csv`` without the wall-clock columns (the only ones that may
    differ between two runs)."""
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    timing = [c for c in rows[0] if "time" in c or "wall" in c or c.endswith("_s")]
    return [{k: v for k, v in r.items() if k not in timing} for r in rows]


def test_run_experiment_gives_the_metrics_of_pilqr_train(tmp_path):
    command = tmp_path / "command"
    subprocess.run(
        [str(pilqr_binary()), "train", "--config", str(SMOKE), "--iterations", "2",
         "--out", str(command), "--quiet"],
        check=True,
        cwd=tmp_path,
    )
    out = pilqr.run_experiment(SMOKE, out=tmp_path / "python", iterations=2, quiet=True)
    assert out == tmp_path / "python"
    expected, got = metrics(command), metrics(out)
    assert len(got) == len(expected)
    assert [r["iteration"] for r in got] == [r["iteration"] for r in expected]
    assert got == expected
    assert any("cost" in c for c in got[0])


def test_an_mdgps_experiment_needs_the_command_with_libtorch(tmp_path):
    config = ROOT / "experiments" / "point_mass_mdgps_smoke.toml"
    with pytest.raises(pilqr.ExperimentError, match="libtorch"):
        pilqr.run_experiment(config, out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


def test_a_missing_experiment_file_is_an_experiment_error(tmp_path):
    with pytest.raises(pilqr.ExperimentError):
        pilqr.run_experiment(tmp_path / "missing.toml", out=tmp_path / "run")
