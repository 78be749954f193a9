/* CUDA kernels (kernels/cuda/kernels.cu, launchers in kernels/cuda/dev_kernels.cuh).
 * Built when nvcc is found at configure time (AM_HAVE_CUDA); without it, or
 * without a usable GPU, every entry point says so and nothing else changes.
 * The device forward pass that uses them is part of the model runtime
 * (pipeline/model/runtime_cuda.h). Failures are written as text into a
 * caller's buffer (msg, cap), the runtime's am_err buffer. */
#ifndef AM_KERNELS_CUDA_H
#define AM_KERNELS_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels.h"

/* 1 when the CUDA backend is built and a device can be used; else 0 with
 * the reason in why (e.g. "built without CUDA", "no CUDA device: ..."). */
int am_cuda_available(char *why, size_t n);

/* The device kernels behind the am_kernels interface on host pointers: each
 * call copies its inputs to the GPU, runs the kernel the device forward uses,
 * and copies the result back. For tests against the CPU references (slow);
 * NULL when am_cuda_available() is 0. matmul runs in float32 (no TF32). */
const am_kernels *am_kernels_cuda(void);

/* The device's memory-read roofline: the best of 3 reads of `bytes` (after
 * a warm-up) by a streaming kernel, in bytes per second (benchmarks). */
int am_cuda_read_bandwidth(double *bytes_per_s, size_t bytes, char *msg, size_t cap);

/* GEMM precision of the device kernels: bf16 inputs with float32
 * accumulation (tensor cores), or plain float32. */
typedef enum am_dev_compute { AM_DEV_BF16 = 0, AM_DEV_F32 = 1 } am_dev_compute;

#ifdef __cplusplus
}
#endif

#endif
