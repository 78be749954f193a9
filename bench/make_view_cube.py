"""A cube of the shape Qwen3-14B gives for config/blog.yaml (4 pairs, 5 alphas,
40 layers, 40 heads; S = 160 positions, float32, one map per chunk, not
compressed: 3.3 GB), for the viewer's open-time test. The maps are causal
softmax rows of seeded random scores, varied per unit."""
import sys
import h5py
import numpy as np

out = sys.argv[1]
P, A, L, H, S = 4, 5, 40, 40, int(sys.argv[2]) if len(sys.argv) > 2 else 160
rng = np.random.default_rng(0)
scores = rng.standard_normal((H, S, S)).astype(np.float32)
scores = np.where(np.tril(np.ones((S, S), bool)), scores, -np.inf)
base = np.exp(scores - scores.max(-1, keepdims=True))
base = (base / base.sum(-1, keepdims=True)).astype(np.float32)  # [H, S, S]
with h5py.File(out, "w") as f:
    f.attrs["schema"] = "attnmix.cube/1"
    f.attrs["model"] = "qwen3-14b"
    d = f.create_dataset("attention", (P, A, L, H, S, S), np.float32, chunks=(1, 1, 1, 1, S, S))
    for p in range(P):
        for a in range(A):
            block = np.broadcast_to(np.roll(base, p * A + a, axis=0), (L, H, S, S))
            d[p, a] = block
    f["pair"] = np.array([f"pair{p}" for p in range(P)], dtype=h5py.string_dtype())
    f["alpha"] = np.linspace(0, 1, A)
    f["layer"] = np.arange(L, dtype=np.int32)
    f["head"] = np.arange(H, dtype=np.int32)
    f["length"] = np.full((P, A), S, np.int32)
    f["prompt_length"] = np.full(P, 12, np.int32)
    f["text"] = np.array([[f"text {p} {a}" for a in range(A)] for p in range(P)], dtype=h5py.string_dtype())
    f["tokens"] = np.array([[[f"t{s}" for s in range(S)] for a in range(A)] for p in range(P)],
                           dtype=h5py.string_dtype())
