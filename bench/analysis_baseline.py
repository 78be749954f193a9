#!/usr/bin/python3
"""Baseline of bench/analysis.sh: the clustering and one per-key t-SNE of an
analysis file redone with scipy and scikit-learn, timed, against attnmix's
times for the same work (read from the progress lines in analyze.log beside
the file).

usage: analysis_baseline.py ANALYSIS.h5 THREADS"""
import os
import re
import sys
import time

import h5py
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score


def zscore(X):
    mu, sd = np.nanmean(X, 0), np.nanstd(X, 0)
    Z = (X - mu) / np.where(sd > 0, sd, 1)
    Z[:, ~(sd > 0)] = 0
    Z[np.isnan(Z)] = 0
    return Z


def main(path, threads):
    log = open(os.path.join(os.path.dirname(path), "analyze.log")).read()
    f = h5py.File(path, "r")
    name = f["heads"].attrs["cluster_distance"]
    D = f["heads"][name.decode() if isinstance(name, bytes) else name][()]
    kmax = len(f["heads/silhouette"]) - 1
    t = time.perf_counter()
    Z = linkage(squareform(D, checks=False), method="average")
    n = len(D)
    sil = [silhouette_score(D, fcluster(Z, Z[n - k - 1, 2], "distance"), metric="precomputed")
           for k in range(2, kmax + 1)]
    t_clu = time.perf_counter() - t
    ours_clu = float(re.search(r"heads: \d+ clusters .*; ([0-9.]+) s\)", log).group(1))
    k_sk = 2 + int(np.argmax(sil))
    print(f"clustering of {n} heads (linkage + k 2..{kmax} by silhouette): attnmix {ours_clu:.2f} s, "
          f"scipy+sklearn {t_clu:.2f} s, ratio {t_clu / ours_clu:.1f}x; k attnmix "
          f"{f['heads/cluster'].attrs['k']}, sklearn {k_sk}")
    feats = f["points/features"][()]
    pair = f["points/pair"][()]
    X = zscore(feats)[pair == 0]
    t = time.perf_counter()
    sk = TSNE(n_components=2, perplexity=30, early_exaggeration=12, learning_rate="auto", init="pca",
              method="barnes_hut", angle=0.5, n_jobs=threads, random_state=0).fit(X)
    t_ts = time.perf_counter() - t
    m = re.search(r"t-SNE of (\d+) x \d+ for pair key [^\n]*\n[^\n]*KL ([0-9.]+) after \d+ iterations \(([0-9.]+) s\)",
                  log)
    print(f"t-SNE of key 0 ({len(X)} maps): attnmix {float(m.group(3)):.1f} s (KL {float(m.group(2)):.4f}), "
          f"sklearn Barnes-Hut {t_ts:.1f} s (KL {sk.kl_divergence_:.4f}), ratio {t_ts / float(m.group(3)):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
