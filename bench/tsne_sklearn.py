#!/usr/bin/python3
"""scikit-learn TSNE on /X of an HDF5 file with the parameters attnmix uses:
perplexity, early exaggeration 12, learning rate auto, init pca, max 1000
iterations (n_iter in this sklearn version), method exact|barnes_hut (angle 0.5).

usage: tsne_sklearn.py DATA.h5 METHOD PERPLEXITY ITERATIONS N_JOBS [OUT.h5]
"""
import sys
import time

import h5py
from sklearn.manifold import TSNE


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    X = h5py.File(argv[1], "r")["X"][()]
    method, perp, iters, jobs = argv[2], float(argv[3]), int(argv[4]), int(argv[5])
    kw = dict(n_components=2, perplexity=perp, early_exaggeration=12.0, learning_rate="auto",
              init="pca", method=method, angle=0.5, random_state=0, n_jobs=jobs)
    try:
        t = TSNE(max_iter=iters, **kw)
    except TypeError:
        t = TSNE(n_iter=iters, **kw)
    t0 = time.time()
    Y = t.fit_transform(X)
    dt = time.time() - t0
    print(f"sklearn N={X.shape[0]} D={X.shape[1]} method={method} n_jobs={jobs} time={dt:.3f} s "
          f"kl={t.kl_divergence_:.6f} iterations={t.n_iter_ + 1}")
    if len(argv) > 6:
        with h5py.File(argv[6], "w") as f:
            d = f.create_dataset("Y", data=Y)
            d.attrs["kl_divergence"] = t.kl_divergence_
            d.attrs["seconds"] = dt
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
