# The two set-up commands of the README. Both install libtorch (PyTorch 2.13.0 from the Python
# package index, once, into ~/.cache/pilqr; see scripts/with-libtorch) before building.
WITH_TORCH := scripts/with-libtorch

.PHONY: demo test test-python baselines baselines-smoke lint bench doc reproduce reproduce-quick check-no-torch bad-inputs

## The main job: the headline experiment (paper Fig. 3, gripper pusher hard condition,
## PILQR vs LQR-FLM vs PI2, 3 seeds) on its shipped configuration; results in
## runs/gripper_pusher_hard-compare/, replaced by each new `make demo` (--force).
demo:
	$(WITH_TORCH) cargo run --release --bin pilqr -- compare --config experiments/gripper_pusher_hard.toml --force

## Every experiment of the paper (experiments/reproduce.toml) -> docs/results.md.
reproduce:
	$(WITH_TORCH) cargo run --release --bin pilqr -- reproduce

## The same with each row's first 3 seeds and fewer iterations -> docs/results-quick.md.
reproduce-quick:
	$(WITH_TORCH) cargo run --release --bin pilqr -- reproduce --quick

## All tests of the workspace (unit, integration, doc tests; the libtorch smoke test included),
## every criterion benchmark run once in test mode (compiled and exercised, not timed), then the
## check that `pilqr` builds and trains without libtorch, then the Python package's tests.
test:
	$(WITH_TORCH) cargo test --workspace
	$(WITH_TORCH) cargo test --workspace --bench '*'
	$(MAKE) check-no-torch
	$(MAKE) test-python

## The Python package `pilqr` (crates/pilqr-py): scripts/python-env sets up .venv-py/ (pinned
## tools and the Ray extra; the wheel rebuilt only when its sources changed), the `pilqr` binary
## without libtorch that the sweep tests drive (`make test` built it just before, in
## check-no-torch), then its pytest suite. No libtorch.
test-python:
	scripts/python-env --with ray
	$(NO_TORCH_ENV) cargo build --no-default-features --bin pilqr
	PILQR_BIN=$(CURDIR)/$(NO_TORCH_BIN) .venv-py/bin/python -m pytest -q crates/pilqr-py/tests

## Deep-RL baselines (baselines/README.md): PPO, SAC, TD3, TRPO on the reacher and the door,
## 3 seeds, budgets that fill BASELINES_HOURS hours of 2 cores (from baselines/step_rates.toml),
## then the "Deep-RL baselines" section of docs/results.md against runs/reproduce's MDGPS rows.
BASELINES_HOURS ?= 1
BASELINES_PY := OMP_NUM_THREADS=1 .venv-py/bin/python
baselines:
	scripts/baselines-env
	$(BASELINES_PY) -m baselines.run --hours $(BASELINES_HOURS) --out runs/baselines
	$(BASELINES_PY) -m baselines.report --baselines runs/baselines --mdgps runs/reproduce --docs docs

## The same with tiny budgets and 1 seed, into target/baselines-smoke (docs/ untouched).
baselines-smoke:
	scripts/baselines-env
	$(BASELINES_PY) -m baselines.run --budget 3000 --eval-every 1000 --seeds 0 --out target/baselines-smoke/runs
	mkdir -p target/baselines-smoke/docs
	$(BASELINES_PY) -m baselines.report --baselines target/baselines-smoke/runs --mdgps runs/reproduce --docs target/baselines-smoke/docs
	test -f target/baselines-smoke/docs/results.md

## Formatting, lints and docs, as required before every commit.
lint:
	cargo fmt --all -- --check
	$(WITH_TORCH) cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(WITH_TORCH) cargo doc --workspace --no-deps

## Criterion benchmarks (long).
bench:
	$(WITH_TORCH) cargo bench --workspace

## `pilqr` without libtorch: build without the default feature `mdgps` (no tch, no libtorch) in
## an environment without LIBTORCH and LD_LIBRARY_PATH, then run `pilqr --help` and a
## `pilqr list` and a 2-iteration point-mass training; an MDGPS experiment must be refused with exit code 2.
NO_TORCH_ENV := env -u LIBTORCH -u LD_LIBRARY_PATH -u LIBTORCH_USE_PYTORCH
NO_TORCH_BIN := target/debug/pilqr
NO_TORCH_TMP := target/check-no-torch
check-no-torch:
	$(NO_TORCH_ENV) cargo build --no-default-features --bin pilqr
	rm -rf $(NO_TORCH_TMP) && mkdir -p $(NO_TORCH_TMP)
	$(NO_TORCH_ENV) $(NO_TORCH_BIN) --help > /dev/null
	$(NO_TORCH_ENV) $(NO_TORCH_BIN) list > /dev/null
	printf 'name = "no_torch"\ntask = "point-mass"\nconditions = ["start-0"]\nmethods = ["lqr-flm"]\nseeds = [0]\niterations = 2\n[trajopt]\nsamples = 5\n' > $(NO_TORCH_TMP)/pm.toml
	$(NO_TORCH_ENV) $(NO_TORCH_BIN) train -q --config $(NO_TORCH_TMP)/pm.toml --out $(NO_TORCH_TMP)/run
	test -f $(NO_TORCH_TMP)/run/metrics.csv
	printf 'name = "no_torch_mdgps"\ntask = "point-mass"\nalgorithm = "mdgps"\n' > $(NO_TORCH_TMP)/mdgps.toml
	$(NO_TORCH_ENV) $(NO_TORCH_BIN) train -q --config $(NO_TORCH_TMP)/mdgps.toml --out $(NO_TORCH_TMP)/mdgps-run 2> $(NO_TORCH_TMP)/mdgps.err; \
	  code=$$?; cat $(NO_TORCH_TMP)/mdgps.err; test $$code -eq 2 && grep -q 'built without MDGPS' $(NO_TORCH_TMP)/mdgps.err && test ! -e $(NO_TORCH_TMP)/mdgps-run
	@echo "check-no-torch: ok"

## The bad-input tally: the `pilqr` binary on ~90 malformed inputs (experiment files, arguments,
## run directories), each classified clear / imprecise / abort / silent (scripts/bad-inputs.sh).
bad-inputs:
	$(WITH_TORCH) cargo build --bin pilqr
	$(WITH_TORCH) scripts/bad-inputs.sh target/debug/pilqr
