"""pilqr.sweep on a local Ray instance: the merged run equals a local `pilqr compare` of the
same jobs, a second sweep skips finished jobs, an interrupted job is resumed."""

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from pilqr.sweep import Job, SweepError, job_dir_finished, main, parse_seeds, sweep

ROOT = Path(__file__).resolve().parents[3]
CONFIG = """name = "sweep"
task = "point-mass"
conditions = [0, 1]
iterations = 2
[trajopt]
samples = 5
"""
METHODS = ["pilqr", "lqr-flm"]
SEEDS = [0, 1]


def test_seeds_are_ranges_or_lists():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5,0-1,9") == [5, 0, 1, 9]
    for bad in ["", "3-1", "a", "1,1", "0-2,2", "-1"]:
        with pytest.raises(ValueError):
            parse_seeds(bad)


@pytest.fixture(scope="module")
def pilqr_bin():
    """The pilqr binary: $PILQR_BIN, else the build make test-python makes (no libtorch)."""
    path = Path(os.environ.get("PILQR_BIN", ROOT / "target" / "debug" / "pilqr"))
    if not path.is_file():
        pytest.fail(f"no pilqr binary at {path}: run `make test-python`, or set PILQR_BIN")
    return str(path)


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed (scripts/python-env --with ray installs it)"
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def metrics_without_times(directory):
    """metrics.csv without its time_* columns, and metrics.jsonl's rows without time_* keys."""
    with open(directory / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, c in enumerate(rows[0]) if not c.startswith("time_")]
    table = [[r[i] for i in keep] for r in rows]
    lines = []
    for line in (directory / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        lines.append({k: v for k, v in row.items() if not k.startswith("time_")})
    return table, lines


def snapshot(directory):
    """Every file under ``directory`` with its bytes and modification time, the lock files
    aside (they hold the PID of the last process that locked the run, here the merge)."""
    return {
        p.relative_to(directory): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_a_sweep_on_ray_equals_a_local_compare_and_resumes(tmp_path, pilqr_bin, ray_local):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    local = tmp_path / "local"
    subprocess.run(
        [pilqr_bin, "-q", "compare", "--config", str(config), "--methods", ",".join(METHODS),
         "--seeds", ",".join(map(str, SEEDS)), "--out", str(local), "--jobs", "1"],
        check=True, capture_output=True,
    )

    # An interrupted job: one iteration of its two done (a run stopped after the checkpoint of
    # iteration 0 has the same files, the iteration count aside, and no summary yet).
    out = tmp_path / "sweep"
    interrupted = out / "jobs" / Job("lqr-flm", 1).name
    subprocess.run(
        [pilqr_bin, "-q", "compare", "--config", str(config), "--methods", "lqr-flm",
         "--seeds", "1", "--iterations", "1", "--out", str(interrupted)],
        check=True, capture_output=True,
    )
    resolved = interrupted / "config.toml"
    text = resolved.read_text()
    assert "iterations = 1\n" in text
    resolved.write_text(text.replace("iterations = 1\n", "iterations = 2\n"))
    (interrupted / "summary.md").unlink()
    assert not job_dir_finished(interrupted)

    result = sweep(config, METHODS, SEEDS, out, pilqr=pilqr_bin, log=lambda _: None)
    assert result.resumed == [Job("lqr-flm", 1)]
    assert sorted(result.ran, key=str) == sorted(
        [Job("pilqr", 0), Job("pilqr", 1), Job("lqr-flm", 0)], key=str
    )
    assert result.skipped == []
    merged = result.compare_dir
    table, lines = metrics_without_times(local)
    assert len(lines) == len(METHODS) * len(SEEDS) * 2 * 2
    # Same text of every non-time CSV cell (the costs printed with every digit) and the same
    # JSON values: bit-identical costs.
    assert metrics_without_times(merged) == (table, lines)
    assert (merged / "config.toml").read_text() == (local / "config.toml").read_text()
    assert (merged / "plots" / "cost.svg").read_bytes() == (local / "plots" / "cost.svg").read_bytes()
    assert [r[0] for r in table[1:]] == ["pilqr"] * 8 + ["lqr-flm"] * 8

    # A second sweep runs nothing: every job is finished; the merge is written again.
    jobs_before = snapshot(out / "jobs")
    again = sweep(config, METHODS, SEEDS, out, pilqr=pilqr_bin, log=lambda _: None)
    assert again.ran == [] and again.resumed == []
    assert len(again.skipped) == len(METHODS) * len(SEEDS)
    assert snapshot(out / "jobs") == jobs_before
    assert metrics_without_times(merged) == (table, lines)


def test_bad_sweeps_are_refused(tmp_path, pilqr_bin, ray_local):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    with pytest.raises(SweepError, match="twice"):
        sweep(config, ["pilqr", "pilqr"], [0], tmp_path / "s", pilqr=pilqr_bin)
    with pytest.raises(SweepError, match="no such experiment file"):
        sweep(tmp_path / "absent.toml", ["pilqr"], [0], tmp_path / "s", pilqr=pilqr_bin)
    # An unknown method fails in the job's pilqr, and the sweep says which job.
    with pytest.raises(SweepError, match="nope-seed0: pilqr exited with 2"):
        sweep(config, ["nope"], [0], tmp_path / "s", pilqr=pilqr_bin, log=lambda _: None)
    with pytest.raises(SystemExit) as exit:
        main([str(config), "--methods", "pilqr", "--seeds", "2-1"])
    assert exit.value.code == 2
