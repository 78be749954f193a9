"""Per-position KL(live || frozen) of a frozen run against the float64 numpy
reference (tools/qwen3_ref.py): for every unit, the reference runs the live
model and the model with the source patterns substituted, both teacher-forced
along the live cube's generated tokens; KL is computed here from the
reference logits and compared with the frozen cube's /kl and analysis.h5's
kl_step / kl_mean / kl_max.

usage: kl_ref_check.py MODEL_OUT_DIR RUN ANALYSIS_H5 CHECKPOINT WORKDIR LAYERS HEADS"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from scipy.special import log_softmax

M, run, an_path, ckpt, work = sys.argv[1:6]
layers, heads = [int(x) for x in sys.argv[6].split(",")], [int(x) for x in sys.argv[7].split(",")]
ref_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "qwen3_ref.py")
live, fz = h5py.File(M + "/cube.h5", "r"), h5py.File(f"{M}/{run}/cube.h5", "r")
P, A = live["length"].shape
alphas = list(live["alpha"][:])
src_a = alphas.index(float(fz.attrs["freeze_alpha"]))
plen = live["prompt_length"][:]
ids_a, ids_b, gen = live["ids_a"][:], live["ids_b"][:], live["generated_ids"][:]
assert live.attrs["mask_pads"] == 0
L, H = live["attention"].shape[2:4]
assert list(live["layer"][:]) == list(range(L)) and list(live["head"][:]) == list(range(H)), "test needs full capture"

units, src_file = [], f"{work}/kl_src.h5"
with h5py.File(src_file, "w") as f:
    for p in range(P):
        f[f"p{p}"] = live["attention"][p, src_a].astype(np.float64)
for p in range(P):
    for a in range(A):
        T = int(plen[p])
        toks = [int(t) for t in gen[p, a] if t >= 0]
        base = {"ids_a": ids_a[p, :T].tolist(), "ids_b": ids_b[p, :T].tolist(), "alpha": float(alphas[a]), "forced": toks}
        units.append(base)
        units.append(dict(base, freeze={"file": src_file, "dataset": f"p{p}", "layers": layers, "heads": heads}))
cases = f"{work}/kl_cases.json"
with open(cases, "w") as f:
    json.dump({"units": units}, f)
subprocess.run([sys.executable, ref_py, "--model", ckpt, "--cases", cases, "--out", f"{work}/kl_ref.h5"], check=True,
               stderr=subprocess.DEVNULL)

kl, steps = fz["kl"][:], fz["kl_steps"][:]
g = h5py.File(an_path, "r")[f"models/{os.path.basename(M)}/frozen/{run}"]
worst, compared = 0.0, 0
with h5py.File(f"{work}/kl_ref.h5", "r") as r:
    for p in range(P):
        for a in range(A):
            i = 2 * (p * A + a)
            lp = log_softmax(r[f"unit{i}/logits"][:].astype(np.float64), axis=-1)
            lq = log_softmax(r[f"unit{i + 1}/logits"][:].astype(np.float64), axis=-1)
            ref = (np.exp(lp) * (lp - lq)).sum(-1)
            n = int(steps[p, a])
            assert n == len(ref), (p, a, n, len(ref))  # the live source covers every live position
            got = kl[p, a, :n]
            assert np.isnan(kl[p, a, n:]).all()
            err = np.abs(got - ref).max()
            assert err < 2e-5 + 2e-3 * ref.max(), (p, a, got, ref)
            worst, compared = max(worst, err), compared + n
            if a == src_a:
                assert (got == 0).all(), got
            else:
                assert (got > 1e-4).all(), got
            assert np.array_equal(g["kl_step"][p, a, :n], got)
            assert np.isclose(g["kl_mean"][p, a], got.mean()) and g["kl_max"][p, a] == got.max()
            assert g["kl"][p, a] == got[0] or abs(g["kl"][p, a] - got[0]) < 1e-9
assert g["kl_step"].dims[2][0].name.endswith("/step") and g["kl_step"].dims[1][0].name.endswith("/alpha")
np.set_printoptions(precision=4)
print(f"per-position KL of {run} vs the reference: {compared} positions, max |error| {worst:.2e}; "
      f"mean KL per pair x alpha {g['kl_mean'][:].tolist()}")
