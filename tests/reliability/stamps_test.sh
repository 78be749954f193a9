#!/usr/bin/env bash
# Content stamps (docs/reliability.md, "Runs that never lie"): what `attnmix
# run` redoes is decided from stamps, never from modification times; a stage
# refuses inputs made from another config or checkpoint; --force recomputes;
# Slurm's completeness check reads the same stamps.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/tiny"
write_config "$D/a.yaml" "$D/out" "$D/tiny" 4 float32 "[0, 0.5, 1]"
# B: same output_dir, another pair and two alphas.
sed -e 's/key: sums/key: other/' -e 's/alphas: .*/alphas: [0, 1]/' a.yaml > b.yaml

# cube_is WHAT PAIRS ALPHAS: the cube holds exactly these pair keys and alphas.
cube_is() {
  "$PYTHON" - "$D/out/tiny/cube.h5" "$2" "$3" <<'PY' || fail "$1: the cube is not what the config asks for"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
pairs = ",".join(k.decode() if isinstance(k, bytes) else k for k in f["pair"][()])
alphas = ",".join(f"{a:g}" for a in f["alpha"][()])
if pairs != sys.argv[2] or alphas != sys.argv[3]:
    sys.exit(f"cube has pairs {pairs} alphas {alphas}, expected {sys.argv[2]} / {sys.argv[3]}")
PY
}
steps() { grep -o "^\[[0-9]*/[0-9]*\] [a-z-]*" "$1" | cut -d' ' -f2 | tr '\n' ' '; }

"$B/attnmix" run a.yaml 2> a.log || { cat a.log; fail "run A failed"; }
cube_is "run A" "capital,sums" "0,0.5,1"
"$B/attnmix" run a.yaml 2> a2.log || fail "rerun A failed"
[[ -z $(steps a2.log) ]] || fail "rerun of A with nothing changed ran: $(steps a2.log)"

# 1. B into the same output_dir: every stage that depends on pairs or alphas
# is redone (induction depends on neither).
"$B/attnmix" run b.yaml 2> b.log || { cat b.log; fail "run B failed"; }
[[ $(steps b.log) == "tokenize embed-mix forward generate analyze plot " ]] || fail "run B redid: $(steps b.log)"
cube_is "run B after A" "capital,other" "0,1"
grep -q "2 pairs x 2 alphas" b.log || fail "run B summary: $(head -1 b.log)"

# ... A's config restored with its old modification time (cp -p): redone.
touch -d "2001-01-01" a.yaml
cp -p a.yaml a-restored.yaml
sed -i "s|$D/out|$D/out|" a-restored.yaml && touch -d "2001-01-01" a-restored.yaml
"$B/attnmix" run a-restored.yaml 2> r.log || { cat r.log; fail "run of the restored A failed"; }
cube_is "restored A (old mtime)" "capital,sums" "0,0.5,1"

# ... other weights of the same shapes in place of model.safetensors: redone.
fp0=$("$PYTHON" -c "import h5py,sys; print(h5py.File(sys.argv[1])['/'].attrs['checkpoint_fingerprint'])" out/tiny/cube.h5)
"$B/attnmix-make-checkpoint" --preset tiny --seed 8 --qk-scale 6 --tokenizer "$ATTNMIX_TOKENIZER_DIR" --out "$D/tiny8" --quiet
cp -p "$D/tiny8/model.safetensors" "$D/tiny/model.safetensors"
touch -d "2001-01-01" "$D/tiny/model.safetensors" "$D/tiny/config.json"
"$B/attnmix" run a.yaml 2> w.log || { cat w.log; fail "run after the weights changed failed"; }
[[ $(steps w.log) == "embed-mix forward generate induction analyze plot " ]] || fail "after new weights the run redid: $(steps w.log)"
fp1=$("$PYTHON" -c "import h5py,sys; print(h5py.File(sys.argv[1])['/'].attrs['checkpoint_fingerprint'])" out/tiny/cube.h5)
[[ $fp0 != "$fp1" ]] || fail "the checkpoint fingerprint did not change with the weights ($fp0)"

# 2. --force recomputes everything.
"$B/attnmix" run a.yaml --force 2> f.log || { cat f.log; fail "run --force failed"; }
[[ $(steps f.log) == "tokenize embed-mix forward generate induction analyze plot " ]] || fail "--force redid: $(steps f.log)"

# 3. A stage refuses an input made from another config: both files named,
# and what differs; nothing written.
mkdir -p other
sed "s|$D/out|$D/outb|" b.yaml > b2.yaml
run_stages b2.yaml tokenize embed-mix forward || fail "B stages failed"
refuse "forward with B's config on A's mix.h5" "$B/attnmix-forward" --config b2.yaml --in1 out/tiny/mix.h5 --out other/p.h5
says "forward, foreign mix" "out/tiny/mix.h5 (made from " "a.yaml) does not match b2.yaml in: pairs, alphas;" "rerun embed-mix"
refuse "embed-mix with B's config on A's tokens.h5" "$B/attnmix-embed-mix" --config b2.yaml --in1 out/tiny/tokens.h5 --out other/m.h5
says "embed-mix, foreign tokens" "out/tiny/tokens.h5" "does not match b2.yaml in: pairs;" "rerun tokenize"
refuse "generate with B's config on A's mix and prefill" "$B/attnmix-generate" --config b2.yaml --in1 out/tiny/mix.h5 \
  --in2 out/tiny/prefill.h5 --out other/c.h5
says "generate, foreign inputs" "out/tiny/mix.h5" "does not match b2.yaml"
refuse "generate with B's mix and A's prefill" "$B/attnmix-generate" --config b2.yaml --in1 outb/tiny/mix.h5 \
  --in2 out/tiny/prefill.h5 --out other/c.h5
says "generate, foreign prefill" "out/tiny/prefill.h5" "does not match b2.yaml in: pairs, alphas;" "rerun forward"
no_output other
# ... and an input made with another checkpoint.
"$B/attnmix-make-checkpoint" --preset tiny --seed 9 --qk-scale 6 --tokenizer "$ATTNMIX_TOKENIZER_DIR" --out "$D/tiny9" --quiet
write_config "$D/c8.yaml" "$D/out" "$D/tiny9" 4 float32 "[0, 0.5, 1]"
refuse "forward on a mix of another checkpoint" "$B/attnmix-forward" --config c8.yaml --in1 out/tiny/mix.h5 --out other/p.h5
says "forward, other checkpoint" "out/tiny/mix.h5" "does not match c8.yaml in: checkpoint;"
no_output other
# A change no stage depends on (threads, a comment) redoes nothing.
sed -e 's/threads: 2/threads: 1/' a.yaml > a-threads.yaml && echo "# a comment" >> a-threads.yaml
"$B/attnmix" run a-threads.yaml 2> t.log || fail "run with other threads failed"
[[ -z $(steps t.log) ]] || fail "threads and a comment redid: $(steps t.log)"
# A change of generation redoes generate only (and what reads the cube).
sed -e 's/max_new_tokens: 4/max_new_tokens: 3/' a.yaml > a-gen.yaml
"$B/attnmix" run a-gen.yaml 2> g.log || fail "run with other max_new_tokens failed"
[[ $(steps g.log) == "generate analyze plot " ]] || fail "generation change redid: $(steps g.log)"
"$B/attnmix" run a.yaml 2> back.log || fail "run A again failed"

# 4. Slurm's completeness check reads the same stamps.
"$B/attnmix" slurm a.yaml --shard model 2> s1.log || { cat s1.log; fail "attnmix slurm failed"; }
grep -q "0 of 1 model tasks to run" s1.log || fail "slurm counts A's complete cube as incomplete: $(cat s1.log)"
"$B/attnmix" slurm b.yaml --shard model 2> s2.log || { cat s2.log; fail "attnmix slurm B failed"; }
grep -q "1 of 1 model tasks to run" s2.log || fail "slurm counts A's cube complete for B: $(cat s2.log)"
echo "stamps: ok"
