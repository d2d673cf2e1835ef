//! The CPU kernels of LM Workbench's fused training ops, on plain `f32` slices: no candle types here,
//! so the candle glue (`lm_workbench::core::model::fused`) stays thin and these stay testable alone.
//!
//! Every kernel is
//! - **multi-threaded** on rayon's global pool (the pool candle's matmuls use), over blocks of rows;
//! - **vectorised at run time**: the row loops are compiled twice, once for AVX2 + FMA and once for the
//!   baseline, and the first is picked when the CPU has it (see [`vectorised!`]);
//! - **deterministic**: blocks are cut by the shape alone (never by the thread count), and partial sums
//!   are combined in block order, so the same input gives the same bits on any number of threads.
//!   Exact resume depends on that.

#[macro_use]
mod simd;
pub mod adamw;
pub mod attention;
pub mod cross_entropy;
pub mod dropout;
pub mod encoder_layer;
pub mod gelu;
pub mod layer_norm;
pub mod linear;
pub mod reduce;
pub mod softmax;

pub use simd::{avx2_fma, erf, exp};

/// `dst (m×n) = [dst +] lhs (m×k) · rhs (k×n)` on the gemm crate (the matmul candle uses), strides in
/// elements (row, column); `parallel`: on rayon's threads, else on the calling one.
///
/// # Safety
/// The pointers with their strides must address m×k, k×n and m×n values inside live buffers, and
/// nothing else may access `dst`'s elements meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn mm(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
    lhs: *const f32,
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: *const f32,
    rhs_rs: usize,
    rhs_cs: usize,
    parallel: bool,
) {
    let parallelism = match rayon::current_num_threads() {
        n if parallel && n > 1 => gemm::Parallelism::Rayon(n),
        _ => gemm::Parallelism::None,
    };
    gemm::gemm(
        m, n, k,
        dst, 1, dst_rs as isize,
        accumulate,
        lhs, lhs_cs as isize, lhs_rs as isize,
        rhs, rhs_cs as isize, rhs_rs as isize,
        if accumulate { 1.0 } else { 0.0 }, 1.0,
        false, false, false,
        parallelism,
    );
}

/// How many rows of width `width` one task takes: about 16K elements, at least one row.
pub(crate) fn rows_per_task(width: usize) -> usize {
    (16 * 1024 / width.max(1)).max(1)
}

/// `out` = the element-wise sum of `parts`, added in order (so that the result does not depend on how
/// many threads computed them).
pub(crate) fn sum_partials<'a>(parts: impl IntoIterator<Item = &'a Vec<f32>>, out: &mut [f32]) {
    out.fill(0.0);
    for p in parts {
        for (o, v) in out.iter_mut().zip(p) {
            *o += v;
        }
    }
}
