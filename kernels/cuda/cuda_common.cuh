/* Shared by the CUDA sources: check macros that record the failed call and
 * its location in a message buffer, and the block-level reductions of the kernels. */
#ifndef AM_CUDA_COMMON_CUH
#define AM_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdio.h>

#include "kernels_cuda.h"

/* 0, or -1 with "CUDA: file:line: call: message" in msg[cap] (msg may be NULL).
 * The model runtime passes its am_err's buffer (model/cuda/forward.cu). */
static inline int am_cuda_check(cudaError_t r, char *msg, size_t cap, const char *file, int line, const char *call) {
    if (r == cudaSuccess) return 0;
    if (msg && cap)
        snprintf(msg, cap, "CUDA: %s:%d: %s: %s (%s)", file, line, call, cudaGetErrorString(r), cudaGetErrorName(r));
    return -1;
}
static inline int am_cublas_check(cublasStatus_t r, char *msg, size_t cap, const char *file, int line,
                                  const char *call) {
    if (r == CUBLAS_STATUS_SUCCESS) return 0;
    if (msg && cap) snprintf(msg, cap, "cuBLAS: %s:%d: %s: %s", file, line, call, cublasGetStatusString(r));
    return -1;
}
#define AM_CUDA_MSG(call, msg, cap) am_cuda_check((call), (msg), (cap), __FILE__, __LINE__, #call)
#define AM_CUBLAS_MSG(call, msg, cap) am_cublas_check((call), (msg), (cap), __FILE__, __LINE__, #call)
/* After kernel launches: a launch error (bad configuration) shows here. */
#define AM_CUDA_LAUNCHED_MSG(msg, cap) \
    am_cuda_check(cudaGetLastError(), (msg), (cap), __FILE__, __LINE__, "kernel launch")

/* Largest head_dim the attention kernels take (one query in shared memory). */
#define AM_DK_MAX_HD 512
/* Threads of the row kernels (rmsnorm, softmax, attention): 4 warps. */
#define AM_DK_ROW_THREADS 128

struct dk_sum_op {
    __device__ float operator()(float a, float b) const { return a + b; }
    static constexpr float identity = 0.0f;
};
struct dk_max_op {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
    static constexpr float identity = -INFINITY;
};

template <class Op> __device__ __forceinline__ float dk_warp_reduce(float v, Op op) {
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* op over v of the whole block, returned to every thread; red: 32 floats of
 * shared memory. Every thread of the block must call it. */
template <class Op> __device__ __forceinline__ float dk_block_reduce(float v, float *red, Op op) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = dk_warp_reduce(v, op);
    __syncthreads(); /* red may still be read by a previous reduction */
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = (int)threadIdx.x < nw ? red[threadIdx.x] : Op::identity;
    if (w == 0) v = dk_warp_reduce(v, op);
    if (threadIdx.x == 0) red[0] = v;
    __syncthreads();
    return red[0];
}

__device__ __forceinline__ float dk_warp_sum(float v) { return dk_warp_reduce(v, dk_sum_op()); }
__device__ __forceinline__ float dk_block_sum(float v, float *red) { return dk_block_reduce(v, red, dk_sum_op()); }
__device__ __forceinline__ float dk_block_max(float v, float *red) { return dk_block_reduce(v, red, dk_max_op()); }

/* Grid size for n elements at `threads` per block, at most 65535 x 32 blocks
 * (grid-stride loops cover the rest). */
static inline unsigned dk_blocks(size_t n, int threads) {
    size_t b = (n + (size_t)threads - 1) / (size_t)threads;
    return (unsigned)(b < 1 ? 1 : b > 2097120 ? 2097120 : b);
}

#endif
