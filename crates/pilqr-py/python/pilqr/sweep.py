"""Sweeps on Ray: the (method, seed) jobs of a ``pilqr compare`` as Ray tasks, merged into one
compare run directory.

    python -m pilqr.sweep CONFIG --methods pilqr,lqr-flm --seeds 0-99 \\
        [--out DIR] [--address ADDR] [--cpus-per-job 1] [--pilqr BIN] \\
        [--iterations N] [--samples N] [--set KEY.PATH=VALUE]...

Each job is one Ray task that runs the ``pilqr`` binary on the worker, in a scratch directory
of the worker's own: ``pilqr compare --methods M --seeds S`` for a new job, ``pilqr resume`` for
one that was interrupted. The task returns the job's run directory as a tar archive through
Ray's object store, so the workers need no file system shared with the driver; the driver
unpacks it into ``DIR/jobs/<method>-seed<seed>/``. Once every job is finished, ``pilqr merge``
writes ``DIR/compare/``: the run directory ``pilqr compare`` of the same jobs writes (the same
``config.toml``, the same metrics rows, checkpoints, tables and plots; only the wall-time
columns, which differ between any two runs, are the jobs' own).

Resumable: a job whose directory is finished (it has its ``summary.md``) is skipped; a job that
stopped early (Ctrl-C of the worker's ``pilqr``, a failing iteration) comes back with the
checkpoints it wrote and is resumed from them by the next sweep. A task lost with its worker is
rerun by Ray from the job's last directory the driver holds.

``--address`` is passed to ``ray.init(address=...)``: ``auto`` for the cluster this machine is
part of, ``ray://HOST:10001`` for a remote one (Ray Client); without it a local Ray instance
is started. The ``pilqr`` binary (``--pilqr``, default: ``pilqr`` on the ``PATH``, else
``target/release/pilqr`` or ``target/debug/pilqr`` under the current directory) must exist at
that path on every worker node; for MDGPS methods the workers need libtorch as well (the
driver's ``LD_LIBRARY_PATH`` and ``LIBTORCH`` are passed to the tasks).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Job", "SweepError", "SweepResult", "job_dir_finished", "parse_seeds", "sweep"]

#: Environment variables of the driver passed on to every task's ``pilqr`` process.
PASSED_ENV = ("LD_LIBRARY_PATH", "LIBTORCH", "RUST_LOG", "RUST_BACKTRACE")


class SweepError(RuntimeError):
    """A sweep that cannot run or did not finish: bad arguments, a failed job, a failed merge."""


@dataclass(frozen=True)
class Job:
    """One (method, seed) job of the comparison."""

    method: str
    seed: int

    @property
    def name(self) -> str:
        """The job's directory name, ``<method>-seed<seed>`` (as its checkpoint is named)."""
        return f"{self.method}-seed{self.seed}"


@dataclass
class SweepResult:
    """What a sweep did: the merged compare directory and the jobs run, resumed and skipped."""

    compare_dir: Path
    ran: list[Job] = field(default_factory=list)
    resumed: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``0-99``, ``0,1,5`` or a mix (``0-3,10``); ranges include both ends.

    Raises ``ValueError`` on anything else, an empty range or a seed listed twice.
    """
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty item in seeds {text!r}")
        if "-" in part:
            low, _, high = part.partition("-")
            a, b = int(low), int(high)
            if a < 0 or b < a:
                raise ValueError(f"seed range {part!r} is empty or negative")
            seeds.extend(range(a, b + 1))
        else:
            seed = int(part)
            if seed < 0:
                raise ValueError(f"negative seed {seed}")
            seeds.append(seed)
    for i, s in enumerate(seeds):
        if s in seeds[:i]:
            raise ValueError(f"seed {s} is listed twice in {text!r}")
    return seeds


def job_dir_finished(path: Path) -> bool:
    """Whether ``path`` holds a finished run: ``pilqr compare`` and ``pilqr resume`` write
    ``summary.md`` only after every iteration of every job."""
    return (path / "config.toml").is_file() and (path / "summary.md").is_file()


def default_pilqr() -> str:
    """The ``pilqr`` binary: on the ``PATH``, else the release or debug build under the current
    directory. Raises ``SweepError`` when there is none."""
    found = shutil.which("pilqr")
    if found:
        return found
    for profile in ("release", "debug"):
        candidate = Path("target") / profile / "pilqr"
        if candidate.is_file():
            return str(candidate.resolve())
    raise SweepError(
        "no pilqr binary: pass --pilqr BIN (build it with `cargo build --release --bin pilqr`)"
    )


def _pack(directory: Path) -> bytes:
    """``directory`` as an uncompressed tar archive (the lock file left out)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(directory, arcname=".", filter=lambda m: None if m.name == "./.lock" else m)
    return buffer.getvalue()


def _unpack(archive: bytes, directory: Path) -> None:
    """Extract an archive made by ``_pack`` into ``directory`` (which must not exist)."""
    directory.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
        tar.extractall(directory, filter="data")


def run_job(
    pilqr: str,
    config_name: str,
    config_text: str,
    job: Job,
    budget: list[str],
    previous: bytes | None,
    threads: int,
    env: dict[str, str],
) -> dict:
    """Run one job with the ``pilqr`` binary in a scratch directory and return its run
    directory: ``{"returncode", "stderr", "archive"}`` (``archive`` the tar of the directory, or
    ``None`` when the run left none). ``previous``, the archive of an unfinished earlier run of
    the job, is resumed; otherwise the job starts with ``pilqr compare``. This is the body of
    the Ray task; it runs as well without Ray."""
    with tempfile.TemporaryDirectory(prefix=f"pilqr-sweep-{job.name}-") as scratch:
        scratch = Path(scratch)
        config = scratch / config_name
        config.write_text(config_text)
        out = scratch / job.name
        if previous is not None:
            _unpack(previous, out)
            args = ["resume", str(out)]
        else:
            args = ["compare", "--config", str(config), "--methods", job.method]
            args += ["--seeds", str(job.seed), "--out", str(out), *budget]
        command = [pilqr, "-q", *args, "--jobs", "1"]
        process_env = dict(os.environ)
        process_env.update(env)
        process_env["RAYON_NUM_THREADS"] = str(threads)
        done = subprocess.run(command, env=process_env, capture_output=True, text=True)
        archive = _pack(out) if (out / "config.toml").is_file() else None
        return {"returncode": done.returncode, "stderr": done.stderr[-4000:], "archive": archive}


def _store(archive: bytes, directory: Path) -> None:
    """Replace ``directory`` by the run directory in ``archive`` (unpacked beside it first, so
    that a failure leaves the previous directory whole)."""
    fresh = directory.with_name(f".{directory.name}.new")
    if fresh.exists():
        shutil.rmtree(fresh)
    _unpack(archive, fresh)
    if directory.exists():
        shutil.rmtree(directory)
    fresh.rename(directory)


def _config_name(config: Path) -> str:
    """The experiment's ``name`` (for the default output directory), else the file's stem."""
    try:
        import tomllib

        return str(tomllib.loads(config.read_text()).get("name", config.stem))
    except (ImportError, ValueError):
        return config.stem


def sweep(
    config: str | os.PathLike,
    methods: list[str],
    seeds: list[int],
    out: str | os.PathLike | None = None,
    *,
    address: str | None = None,
    cpus_per_job: float = 1,
    pilqr: str | None = None,
    budget: list[str] | None = None,
    ray_init: dict | None = None,
    log=print,
) -> SweepResult:
    """Run every (method, seed) job of ``config`` that is not finished as a Ray task, then merge
    all of them into ``out/compare`` with ``pilqr merge``.

    ``out`` defaults to ``runs/<name>-sweep``; the jobs' directories are ``out/jobs/<method>-
    seed<seed>``. ``budget`` are further ``pilqr compare`` options (``--iterations``,
    ``--samples``, ``--set``) for new jobs. Ray is started with ``ray.init(address=address,
    **ray_init)`` unless it is already initialised. Raises ``SweepError`` when a job fails (the
    others' results are kept, and the failed one's checkpoints when it wrote any) or the merge
    does.
    """
    try:
        import ray
    except ImportError as e:
        raise SweepError(
            "Ray is not installed: run scripts/python-env --with ray (or pip install ray)"
        ) from e
    config = Path(config)
    if not config.is_file():
        raise SweepError(f"{config}: no such experiment file")
    if not methods or not seeds:
        raise SweepError("a sweep needs at least one method and one seed")
    if len(set(methods)) != len(methods):
        raise SweepError(f"--methods lists a method twice: {','.join(methods)}")
    if cpus_per_job <= 0:
        raise SweepError("--cpus-per-job must be positive")
    pilqr = pilqr or default_pilqr()
    out = Path(out) if out is not None else Path("runs") / f"{_config_name(config)}-sweep"
    jobs_dir = out / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    budget = list(budget or [])
    jobs = [Job(m, s) for m in methods for s in seeds]
    result = SweepResult(compare_dir=out / "compare")

    if not ray.is_initialized():
        ray.init(address=address, **(ray_init or {}))
    remote = ray.remote(num_cpus=cpus_per_job)(run_job)
    threads = max(1, int(cpus_per_job))
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    config_text = config.read_text()
    pending = {}
    for job in jobs:
        directory = jobs_dir / job.name
        if job_dir_finished(directory):
            result.skipped.append(job)
            continue
        previous = None
        if (directory / "config.toml").is_file():
            previous = _pack(directory)
            result.resumed.append(job)
        else:
            result.ran.append(job)
        ref = remote.remote(pilqr, config.name, config_text, job, budget, previous, threads, env)
        pending[ref] = job
    log(
        f"sweep: {len(jobs)} job(s): {len(result.ran)} to run, {len(result.resumed)} to resume, "
        f"{len(result.skipped)} finished already"
    )
    failures = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        try:
            done = ray.get(ready[0])
        except Exception as e:  # the task itself failed (its worker died, Ray's error)
            failures.append(f"{job.name}: the Ray task failed: {e}")
            continue
        if done["archive"] is not None:
            _store(done["archive"], jobs_dir / job.name)
        if done["returncode"] != 0:
            failures.append(f"{job.name}: pilqr exited with {done['returncode']}: {done['stderr']}")
        else:
            log(f"sweep: {job.name} finished")
    if failures:
        raise SweepError(
            "; ".join(failures) + f" (run the sweep again to resume; jobs are in {jobs_dir})"
        )
    command = [pilqr, "-q", "merge", "--force", "--out", str(result.compare_dir)]
    command += [str(jobs_dir / j.name) for j in jobs]
    merged = subprocess.run(command, capture_output=True, text=True)
    if merged.returncode != 0:
        raise SweepError(f"pilqr merge exited with {merged.returncode}: {merged.stderr.strip()}")
    log(f"sweep: merged into {result.compare_dir}")
    return result


def main(argv: list[str] | None = None) -> int:
    """The command line ``python -m pilqr.sweep``; returns the exit code (2 for bad arguments
    or a failed sweep)."""
    parser = argparse.ArgumentParser(
        prog="python -m pilqr.sweep",
        description="Run the (method, seed) jobs of a pilqr comparison as Ray tasks and merge "
        "them into the compare run directory `pilqr compare` would write.",
    )
    parser.add_argument("config", help="experiment file (TOML)")
    parser.add_argument("--methods", required=True, help="comma-separated, e.g. pilqr,lqr-flm")
    parser.add_argument("--seeds", required=True, help="e.g. 0-99 or 0,1,2")
    parser.add_argument("--out", help="sweep directory (default runs/<name>-sweep)")
    parser.add_argument("--address", help="Ray cluster for ray.init(address=...), e.g. auto")
    parser.add_argument("--cpus-per-job", type=float, default=1.0, help="Ray CPUs per job")
    parser.add_argument("--pilqr", help="the pilqr binary (the same path on every node)")
    parser.add_argument("--iterations", type=int, help="iterations in place of the file's")
    parser.add_argument("--samples", type=int, help="samples in place of the file's")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="as pilqr compare"
    )
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as e:
        parser.error(f"--seeds: {e}")
    budget = []
    if args.iterations is not None:
        budget += ["--iterations", str(args.iterations)]
    if args.samples is not None:
        budget += ["--samples", str(args.samples)]
    for setting in args.set:
        budget += ["--set", setting]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    try:
        result = sweep(
            args.config,
            methods,
            seeds,
            args.out,
            address=args.address,
            cpus_per_job=args.cpus_per_job,
            pilqr=args.pilqr,
            budget=budget,
        )
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"results in {result.compare_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
