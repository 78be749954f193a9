#!/usr/bin/env bash
# The disk check before generate (docs/reliability.md): the cube's estimated
# size (raw size x the compression measured on the prefill, with a margin)
# against the output directory's free space, refused before anything is
# generated, with the numbers; the estimate bounds the real cube.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/tiny"
write_config "$D/d.yaml" "$D/out" "$D/tiny" 12
run_stages d.yaml tokenize embed-mix forward || fail "stages before generate"
# Refused with too little space: no cube, no temporary file, nothing generated.
ATTNMIX_DISK_FREE=100000 refuse "generate with 100 kB free" "$B/attnmix-generate" --config d.yaml
says "disk check" "generate tiny: the cube $D/out/tiny/cube.h5 needs about" "GiB uncompressed x" \
  "the compression measured on the prefill" "but $D/out/tiny has 0.000 GiB free" "capture.dtype"
[[ $msg != *"tokens,"* && $msg != *"prefill ("* ]] || fail "generate computed before refusing: $msg"
[[ ! -e out/tiny/cube.h5 && -z $(ls out/tiny | grep tmp-) ]] || fail "disk check left output: $(ls out/tiny)"
((rc == 1)) || fail "disk check: exit $rc"
ATTNMIX_DISK_FREE=12x refuse "a malformed ATTNMIX_DISK_FREE" "$B/attnmix-generate" --config d.yaml
says "malformed ATTNMIX_DISK_FREE" "ATTNMIX_DISK_FREE must be a number of bytes"
# With the space: the cube is written, and the estimate (the amount the check
# asks for) is at least its real size.
"$B/attnmix-generate" --config d.yaml --quiet || fail "generate with space failed"
size=$(stat -c %s out/tiny/cube.h5)
ATTNMIX_DISK_FREE=$size refuse "generate with exactly the cube's size free" "$B/attnmix-generate" --config d.yaml --force
need=$(sed -n 's/.*needs about \([0-9.]*\) GiB.*/\1/p' <<< "$msg")
"$PYTHON" -c "import sys; need=float(sys.argv[1])*2**30; size=int(sys.argv[2]); assert need >= size, (need, size)" "$need" "$size" ||
  fail "the estimate $need GiB is below the real cube of $size bytes"
[[ -s out/tiny/cube.h5 ]] || fail "a refused generate removed the existing cube"
echo "disk check: estimate $need GiB for a cube of $size bytes" >&2
echo "disk check: ok"
