#!/usr/bin/python3
"""attnmix t-SNE (bench-tsne) against sklearn.manifold.TSNE on the same data
and parameters (perplexity 30, early exaggeration 12, learning rate auto,
init pca, 1000 iterations): exact on N = 300, and Barnes-Hut and FFT (both
against sklearn's Barnes-Hut) on N = 1500 clustered 16-d points. KL within
5 % and trustworthiness (10 neighbours) within 0.02."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from sklearn.manifold import TSNE, trustworthiness

BIN = os.environ.get("ATTNMIX_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))


def main():
    rng = np.random.default_rng(5)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for N, method, ours_methods in ((300, "exact", ("exact",)), (1500, "barnes_hut", ("barnes_hut", "fft"))):
            centres = rng.normal(scale=4, size=(10, 16))
            X = centres[rng.integers(0, 10, N)] + rng.normal(size=(N, 16))
            data, emb = os.path.join(tmp, "x.h5"), os.path.join(tmp, "y.h5")
            with h5py.File(data, "w") as f:
                f["X"] = X
            sk = TSNE(n_components=2, perplexity=30, early_exaggeration=12, learning_rate="auto", init="pca",
                      method=method, angle=0.5, random_state=0, n_jobs=2)
            Ys = sk.fit_transform(X)
            ts = trustworthiness(X, Ys, n_neighbors=10)
            for ours in ours_methods:
                subprocess.run([os.path.join(BIN, "bench-tsne"), "--in", data, "--out", emb, "--method", ours,
                                "--perplexity", "30", "--iterations", "1000", "--threads", "2"], check=True,
                               env=dict(os.environ, BENCH_TSNE_NO_EVAL="1"))
                with h5py.File(emb, "r") as f:
                    Y, kl = f["Y"][()], float(f["Y"].attrs["kl_divergence"])
                t = trustworthiness(X, Y, n_neighbors=10)
                print(f"N={N} attnmix {ours} vs sklearn {method}: KL attnmix {kl:.5f} sklearn "
                      f"{sk.kl_divergence_:.5f}; trustworthiness attnmix {t:.4f} sklearn {ts:.4f}")
                if abs(kl - sk.kl_divergence_) > 0.05 * sk.kl_divergence_:
                    print(f"FAIL {ours}: KL differs by more than 5 %")
                    failures += 1
                if abs(t - ts) > 0.02:
                    print(f"FAIL {ours}: trustworthiness differs by more than 0.02")
                    failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
