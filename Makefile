# The two set-up commands of the README. Both install libtorch (PyTorch 2.13.0 from the Python
# package index, once, into ~/.cache/pilqr; see scripts/with-libtorch) before building.
WITH_TORCH := scripts/with-libtorch

.PHONY: demo test lint bench doc reproduce reproduce-quick

## The main job: the headline experiment (paper Fig. 3, gripper pusher hard condition,
## PILQR vs LQR-FLM vs PI2, 3 seeds) on its shipped configuration; results in runs/.
demo:
	$(WITH_TORCH) cargo run --release --bin pilqr -- compare --config experiments/gripper_pusher_hard.toml

## Every experiment of the paper (experiments/reproduce.toml) -> docs/results.md.
reproduce:
	$(WITH_TORCH) cargo run --release --bin pilqr -- reproduce

## The same with one seed and fewer iterations -> docs/results-quick.md.
reproduce-quick:
	$(WITH_TORCH) cargo run --release --bin pilqr -- reproduce --quick

## All tests of the workspace (unit, integration, doc tests; the libtorch smoke test included).
test:
	$(WITH_TORCH) cargo test --workspace

## Formatting, lints and docs, as required before every commit.
lint:
	cargo fmt --all -- --check
	$(WITH_TORCH) cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(WITH_TORCH) cargo doc --workspace --no-deps

## Criterion benchmarks (long).
bench:
	$(WITH_TORCH) cargo bench --workspace
