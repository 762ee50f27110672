#!/usr/bin/env bash
# The bad-input tally: runs the `pilqr` binary on malformed inputs (experiment files, arguments,
# run directories) and classifies each answer:
#   clear      exit 2 and the message names what is wrong (the expected text below)
#   imprecise  refused, but exit 1, or a message that does not name it
#   abort      killed by a signal / panic / out-of-memory (exit >= 101)
#   silent     accepted (exit 0)
# Usage: scripts/with-libtorch scripts/bad-inputs.sh [PATH/TO/pilqr]   (default: target/release/pilqr)
# Prints one line per input and the tally; exits 1 when any input is not `clear`.
set -u
BIN=${1:-target/release/pilqr}
[ -x "$BIN" ] || { echo "bad-inputs: no binary at $BIN (cargo build --release first)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pilqr-bad-inputs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2

BASE='name = "bad"
task = "point-mass"
conditions = ["start-0"]
methods = ["lqr-flm"]
seeds = [0]
iterations = 2

[trajopt]
samples = 5
'
declare -A TALLY=([clear]=0 [imprecise]=0 [abort]=0 [silent]=0)
N=0

# classify NAME EXPECTED -- COMMAND...: run it (30 s at most), classify its exit code and stderr.
classify() {
  local name=$1 expected=$2
  shift 3
  N=$((N + 1))
  local err code kind
  err=$(timeout 30 "$@" -q 2>&1 >/dev/null </dev/null)
  code=$?
  if [ "$code" -eq 0 ]; then kind=silent
  elif [ "$code" -ge 101 ] || [ "$code" -eq 124 ]; then kind=abort
  elif [ "$code" -eq 2 ] && grep -qiF -- "$expected" <<<"$err"; then kind=clear
  else kind=imprecise
  fi
  TALLY[$kind]=$((TALLY[$kind] + 1))
  printf '%-10s %-44s exit %-3s %s\n' "$kind" "$name" "$code" "$(head -n1 <<<"$err" | cut -c1-150)"
}

# cfg NAME EXPECTED TEXT: train a config whose text is TEXT.
cfg() {
  local f="$WORK/$N.toml"
  printf '%s' "$3" >"$f"
  classify "$1" "$2" -- "$BIN" train --config "$f" --out "$WORK/run-$N"
}

# field NAME EXPECTED SEARCH REPLACE: the base config with one line replaced.
field() { cfg "$1" "$2" "${BASE/"$3"/"$4"}"; }
# extra NAME EXPECTED TEXT: the base config with TEXT appended.
extra() { cfg "$1" "$2" "$BASE$3"; }

# --- experiment files ------------------------------------------------------------------------
field "name missing"                 "name"            'name = "bad"' ''
field "name empty"                   "name"            'name = "bad"' 'name = ""'
field "name with a slash"            "name"            'name = "bad"' 'name = "a/b"'
field "task missing"                 "task"            'task = "point-mass"' ''
field "unknown task"                 "task"            'task = "point-mass"' 'task = "pointmass"'
field "task is a number"             "task"            'task = "point-mass"' 'task = 3'
field "iterations 0"                 "iterations"      'iterations = 2' 'iterations = 0'
field "iterations negative"          "iterations"      'iterations = 2' 'iterations = -1'
field "iterations a string"          "iterations"      'iterations = 2' 'iterations = "two"'
field "iterations a float"           "iterations"      'iterations = 2' 'iterations = 1.5'
field "seeds empty"                  "seeds"           'seeds = [0]' 'seeds = []'
field "seed negative"                "seeds"           'seeds = [0]' 'seeds = [-1]'
field "seeds not a list"             "seeds"           'seeds = [0]' 'seeds = 0'
field "seed twice"                   "seeds"           'seeds = [0]' 'seeds = [0, 0]'
field "conditions empty"             "conditions"      'conditions = ["start-0"]' 'conditions = []'
field "unknown condition name"       "conditions"      'conditions = ["start-0"]' 'conditions = ["start-9x"]'
field "condition index too large"    "conditions"      'conditions = ["start-0"]' 'conditions = [99]'
field "condition twice"              "conditions"      'conditions = ["start-0"]' 'conditions = [0, 0]'
field "methods empty"                "methods"         'methods = ["lqr-flm"]' 'methods = []'
field "unknown method"               "methods"         'methods = ["lqr-flm"]' 'methods = ["lqr"]'
field "method twice"                 "methods"         'methods = ["lqr-flm"]' 'methods = ["pi2", "pi2"]'
field "MDGPS and trajopt methods"    "methods"         'methods = ["lqr-flm"]' 'methods = ["pilqr", "mdgps-pilqr"]'
field "unknown algorithm"            "algorithm"       'methods = ["lqr-flm"]' 'algorithm = "gps"'
field "local without mdgps"          "local"           'methods = ["lqr-flm"]' 'algorithm = "trajopt"
local = "pilqr"'
field "local and methods"            "local"           'methods = ["lqr-flm"]' 'algorithm = "mdgps"
methods = ["mdgps-pilqr"]
local = "pilqr"'
field "unknown top-level field"      "iteration"       'iterations = 2' 'iteration = 2'
field "test_conditions with trajopt" "test_conditions" 'seeds = [0]' 'seeds = [0]
test_conditions = ["start-4"]'
extra "[mdgps] with trajopt"         "mdgps"           '[mdgps]
samples = 5
'
field "samples 0"                    "samples"         'samples = 5' 'samples = 0'
field "samples negative"             "samples"         'samples = 5' 'samples = -5'
field "samples beyond memory"        "samples"         'samples = 5' 'samples = 1000000000'
field "misspelt trajopt key"         "sampels"         'samples = 5' 'sampels = 5'
field "trajopt.algorithm set"        "trajopt.algorithm" 'samples = 5' 'samples = 5
algorithm = "pilqr"'
extra "kl_step negative"             "kl_step"         'kl_step = -0.5
'
extra "kl_step NaN"                  "kl_step"         'kl_step = nan
'
extra "kl_step wrong length"         "kl_step"         'kl_step = [0.5, 0.5]
'
extra "kl_step a string"             "kl_step"         'kl_step = "big"
'
extra "min above max step mult"      "step_mult"       'min_step_mult = 5.0
max_step_mult = 1.0
'
extra "init_step_mult 0"             "init_step_mult"  'init_step_mult = 0.0
'
extra "unknown step_rule"            "step_rule"       'step_rule = "fast"
'
extra "init_var NaN"                 "init_var"        '[trajopt.init]
type = "pd"
init_var = nan
'
extra "init_var 0"                   "init_var"        '[trajopt.init]
type = "pd"
init_var = 0.0
'
extra "unknown init type"            "type"            '[trajopt.init]
type = "random"
'
extra "max_eta infinite"             "trajopt.lqr.max_eta" '[trajopt.lqr]
max_eta = inf
'
extra "min_eta negative"             "min_eta"         '[trajopt.lqr]
min_eta = -1.0
'
extra "unknown value_function"       "value_function"  '[trajopt.lqr]
value_function = "cost"
'
extra "PI2 kl_threshold negative"    "kl_threshold"    '[trajopt.pi2]
kl_threshold = -1.0
'
extra "dynamics max_samples 0"       "max_samples"     '[dynamics.prior]
max_samples = 0
'
extra "dynamics strength negative"   "strength"        '[dynamics.prior]
strength = -1.0
'
extra "dynamics regularization NaN"  "regularization"  '[dynamics]
regularization = nan
'
extra "unknown dynamics key"         "dynamics"        '[dynamics]
prio = 1
'
cfg   "TOML syntax error"            ":2"              'name = "bad"
task = point-mass
'
cfg   "empty file"                   "name"            ''
printf 'name = "\xff"\n' >"$WORK/latin1.toml"
classify "not UTF-8"                 "UTF-8"           -- "$BIN" train --config "$WORK/latin1.toml" --out "$WORK/run-u"
classify "config file missing"       "cannot read"     -- "$BIN" train --config "$WORK/missing.toml"
classify "config is a directory"     "cannot read"     -- "$BIN" train --config "$WORK"

# --- arguments -----------------------------------------------------------------------------
printf '%s' "$BASE" >"$WORK/good.toml"
G="$WORK/good.toml"
classify "--iterations 0"            "--iterations"    -- "$BIN" train --config "$G" --iterations 0 --out "$WORK/a1"
classify "--samples 0"               "--samples"       -- "$BIN" train --config "$G" --samples 0 --out "$WORK/a2"
classify "--iterations not a number" "--iterations"    -- "$BIN" train --config "$G" --iterations x --out "$WORK/a3"
classify "--seeds not numbers"       "--seeds"         -- "$BIN" compare --config "$G" --seeds a,b --out "$WORK/a4"
classify "--methods unknown"         "--methods"       -- "$BIN" compare --config "$G" --methods lqr --out "$WORK/a5"
classify "--methods twice"           "--methods"       -- "$BIN" compare --config "$G" --methods pi2,pi2 --out "$WORK/a6"
classify "--methods of MDGPS"        "--methods"       -- "$BIN" compare --config "$G" --methods mdgps-pilqr --out "$WORK/a7"
classify "--seeds twice"             "--seeds"         -- "$BIN" compare --config "$G" --seeds 1,1 --out "$WORK/a8"
classify "--set malformed"           "KEY.PATH=VALUE"  -- "$BIN" train --config "$G" --set samples --out "$WORK/a9"
classify "--set unknown field"       "trajopt.sampels" -- "$BIN" train --config "$G" --set trajopt.sampels=3 --out "$WORK/a10"
classify "--set wrong type"          "iterations"      -- "$BIN" train --config "$G" --set iterations=many --out "$WORK/a11"
classify "--set through a value"     "not a table"     -- "$BIN" train --config "$G" --set iterations.x=1 --out "$WORK/a12"
mkdir -p "$WORK/not-a-run" && echo keep >"$WORK/not-a-run/notes.txt"
classify "--out a non-run directory" "not-a-run"       -- "$BIN" train --config "$G" --out "$WORK/not-a-run"
classify "--force on a non-run dir"  "not-a-run"       -- "$BIN" train --config "$G" --force --out "$WORK/not-a-run"
classify "unknown subcommand"        "unrecognized"    -- "$BIN" trian --config "$G"

# --- run directories -----------------------------------------------------------------------
R="$WORK/run"
"$BIN" train -q --config "$G" --out "$R" >/dev/null 2>&1 || echo "bad-inputs: the good config did not train" >&2
classify "same --out again"          "already"         -- "$BIN" train --config "$G" --out "$R"
classify "eval of no directory"      "missing-run"     -- "$BIN" eval "$WORK/missing-run"
classify "eval of a non-run dir"     "not-a-run"       -- "$BIN" eval "$WORK/not-a-run"
classify "eval --rollouts 0"         "--rollouts"      -- "$BIN" eval "$R" --rollouts 0
classify "eval --rollouts 1e9"       "--rollouts"      -- "$BIN" eval "$R" --rollouts 1000000000
classify "eval --iteration too big"  "--iteration"     -- "$BIN" eval "$R" --iteration 99
classify "eval --conditions test"    "held-out"        -- "$BIN" eval "$R" --conditions test
classify "render unknown condition"  "condition"       -- "$BIN" render "$R" --condition nowhere
classify "render --gif --png"        "--png"           -- "$BIN" render "$R" --gif --png
classify "resume --iterations 0"     "--iterations"    -- "$BIN" resume "$R" --iterations 0
classify "resume --iterations below" "--iterations"    -- "$BIN" resume "$R" --iterations 1
cp -r "$R" "$WORK/edited"
sed -i 's/^samples = 5/samples = 6/' "$WORK/edited/config.toml"
classify "config.toml edited"        "config.toml changed" -- "$BIN" resume "$WORK/edited"
cp -r "$R" "$WORK/garbled"
head -c 300 /dev/urandom >"$WORK/garbled/checkpoints/lqr-flm-seed0.ckpt"
classify "checkpoint garbled"        "lqr-flm-seed0.ckpt" -- "$BIN" eval "$WORK/garbled"
cp -r "$R" "$WORK/badrow"
printf 'not json\n' >>"$WORK/badrow/metrics.jsonl"
classify "metrics line garbled"      "metrics.jsonl"   -- "$BIN" resume "$WORK/badrow"
cp -r "$R" "$WORK/nockpt"
rm -rf "$WORK/nockpt/checkpoints"/*
classify "every checkpoint deleted"  "no checkpoint"   -- "$BIN" resume "$WORK/nockpt"
cp -r "$R" "$WORK/noconfig"
rm "$WORK/noconfig/config.toml"
classify "config.toml deleted"       "config.toml"     -- "$BIN" resume "$WORK/noconfig"
classify "reproduce missing plan"    "missing-plan"    -- "$BIN" reproduce --plan "$WORK/missing-plan.toml"

echo
echo "$N inputs: ${TALLY[clear]} clear, ${TALLY[imprecise]} imprecise, ${TALLY[abort]} abort, ${TALLY[silent]} silent"
[ "${TALLY[clear]}" -eq "$N" ]
