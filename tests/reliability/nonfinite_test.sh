#!/usr/bin/env bash
# Non-finite values (docs/reliability.md): a checkpoint holding one NaN is
# refused when it is opened, naming the tensor and the index; with the scan
# opted out (ATTNMIX_ALLOW_NONFINITE=weights) the run stops where the NaN
# first appears (pair, alpha, layer, position) and writes nothing; with =1
# the NaN flows through (for studying broken checkpoints). An alpha too large
# for float32 and a NaN among forward's recorded logits are refused too.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/tiny"

# poke CKPT TENSOR INDEX BITS: set element INDEX of TENSOR to the raw bits (hex).
poke() {
  "$PYTHON" - "$@" <<'PY'
import json, struct, sys
d, name, index, bits = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4], 16)
path = d + "/model.safetensors"
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    t = json.loads(f.read(n))[name]
    size = {"BF16": 2, "F16": 2, "F32": 4}[t["dtype"]]
    f.seek(8 + n + t["data_offsets"][0] + index * size)
    f.write(bits.to_bytes(size, "little"))
PY
}
copy_model() { rm -rf "$2"; cp -r "$1" "$2"; }

# 1. One bf16 NaN in q_proj of layer 1: refused at the first stage that opens
# the checkpoint, naming the shard, the tensor and the element; nothing written.
copy_model tiny nan
poke nan model.layers.1.self_attn.q_proj.weight 69 7fc0
write_config "$D/n.yaml" "$D/out" "$D/nan" 4
refuse "a NaN in layers.1 q_proj" "$B/attnmix" run n.yaml
says "NaN in q_proj" "nan/model.safetensors: tensor \"model.layers.1.self_attn.q_proj.weight\" (BF16) holds a non-finite value (nan) at [1, 5] (element 69 of" \
  "ATTNMIX_ALLOW_NONFINITE"
((rc == 1)) || fail "NaN in q_proj: exit $rc"
[[ $(ls out/tiny) == tokens.h5 ]] || fail "NaN in q_proj: outputs beyond tokens.h5: $(ls out/tiny)"

# ... scan opted out: the run stops where the NaN surfaces, names the place,
# and commits nothing.
export ATTNMIX_ALLOW_NONFINITE=weights
run_stages n.yaml tokenize embed-mix || fail "tokenize/embed-mix with the scan opted out"
refuse "forward, NaN surfacing" "$B/attnmix-forward" --config n.yaml
says "forward, NaN surfacing" "pair 'capital' alpha 0, layer 1, position 0: stopped on a non-finite value, nothing written" \
  "non-finite value (nan) in the residual stream after layer 1"
[[ ! -e out/tiny/prefill.h5 && -z $(ls out/tiny | grep tmp-) ]] || fail "forward left output: $(ls out/tiny)"
# generate stops in its own prefill the same way (given forward's output made with no check at all)
ATTNMIX_ALLOW_NONFINITE=1 "$B/attnmix-forward" --config n.yaml --quiet || fail "forward with ATTNMIX_ALLOW_NONFINITE=1"
refuse "generate, NaN surfacing" "$B/attnmix-generate" --config n.yaml
says "generate, NaN surfacing" "pair 'capital' alpha 0, layer 1, position 0: stopped on a non-finite value, nothing written"
[[ ! -e out/tiny/cube.h5 && -z $(ls out/tiny | grep tmp-) ]] || fail "generate left output: $(ls out/tiny)"
unset ATTNMIX_ALLOW_NONFINITE

# ... no check at all (=1): exit 0 and the NaN in the cube, as before.
ATTNMIX_ALLOW_NONFINITE=1 run_stages n.yaml tokenize embed-mix forward generate || fail "run with ATTNMIX_ALLOW_NONFINITE=1"
"$PYTHON" - out/tiny/cube.h5 <<'PY' || fail "the opted-out run did not carry the NaN"
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1])["attention"][()]
assert np.isnan(a).any(), "no NaN in the cube"
PY

# 2. One NaN in model.norm.weight (every text would be "!!!").
copy_model tiny nan2
poke nan2 model.norm.weight 0 7fc0
write_config "$D/n2.yaml" "$D/out2" "$D/nan2" 4
refuse "a NaN in model.norm" "$B/attnmix" run n2.yaml
says "NaN in model.norm" "tensor \"model.norm.weight\" (BF16) holds a non-finite value (nan) at [0]"
# an inf is refused as well (float16 bits of -inf in a float32 checkpoint would be wrong: bf16 -inf)
copy_model tiny inf
poke inf model.embed_tokens.weight 130 ff80
write_config "$D/i.yaml" "$D/outi" "$D/inf" 4
refuse "a -inf in embed_tokens" "$B/attnmix-induction" --config i.yaml
says "-inf in embed_tokens" "model.embed_tokens.weight\" (BF16) holds a non-finite value (-inf) at [2, 2]"

# 3. An alpha too large for float32: refused by embed-mix naming pair and alpha.
write_config "$D/big.yaml" "$D/outb" "$D/tiny" 4 float32 "[0, 1e308]"
refuse "alpha 1e308" run_stages big.yaml tokenize embed-mix
says "alpha 1e308" "pair 'capital' alpha 1e+308: the mixed embedding is not finite" "'alphas'"
[[ ! -e outb/tiny/mix.h5 && -z $(ls outb/tiny | grep tmp-) ]] || fail "alpha 1e308: mix.h5 written"

# 4. generate compares its prefill logits with forward's: a NaN there is a difference.
write_config "$D/g.yaml" "$D/outg" "$D/tiny" 4
run_stages g.yaml tokenize embed-mix forward || fail "stages of g.yaml"
"$PYTHON" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); d=f['logits']; x=d[()]; x[0,1,7]=float('nan'); d[...]=x" outg/tiny/prefill.h5
refuse "NaN among forward's logits" "$B/attnmix-generate" --config g.yaml
says "NaN logits" "prefill.h5: logits of pair 'capital' alpha 0.5 differ from this run's prefill by nan"
[[ ! -e outg/tiny/cube.h5 ]] || fail "generate wrote a cube"
echo "nonfinite: ok"
