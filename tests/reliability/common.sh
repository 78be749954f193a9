# Shared by the reliability tests: the pipeline fixtures (tiny checkpoint,
# configs) and assertions on refused runs.
source "$(dirname "${BASH_SOURCE[0]}")/../pipeline/common.sh"
B=$ATTNMIX_BIN

# refuse DESC CMD... : CMD must exit non-zero; its stderr+stdout is left in $msg.
refuse() {
  local desc=$1; shift
  set +e; msg=$("$@" 2>&1); rc=$?; set -e
  ((rc != 0)) || fail "$desc: exit 0, expected a refusal; output: $msg"
  echo "  $desc: refused (exit $rc): ${msg%%$'\n'*}" >&2
}

# says DESC TEXT... : the last message contains every TEXT.
says() {
  local desc=$1; shift
  for t in "$@"; do [[ $msg == *"$t"* ]] || fail "$desc: message does not name '$t': $msg"; done
}

# no_output DIR : DIR holds no .h5 file and no temporary file.
no_output() {
  local left
  left=$(find "$1" \( -name '*.h5' -o -name '*.tmp-*' \) 2>/dev/null || true)
  [[ -z $left ]] || fail "output left behind in $1: $left"
}

# run_stages CONFIG STAGE... : run stages quietly, stop at the first failure
run_stages() {
  local cfg=$1; shift
  for st in "$@"; do "$B/attnmix-$st" --config "$cfg" --quiet || return 1; done
}

# one_thread CONFIG : threads: 1 (steady run times on a busy machine; the
# tests check outcomes, not speed)
one_thread() { sed -i "s/^threads: .*/threads: 1/" "$1"; }

# tiny_run DIR CONFIG MAX_NEW : DIR emptied, the tiny checkpoint in DIR/tiny and
# a one-thread config DIR/CONFIG writing DIR/out; sets D (DIR, absolute) and
# M (the model's output directory DIR/out/tiny).
tiny_run() {
  D=$(fresh_dir "$1")
  make_model "$D/tiny"
  write_config "$D/$2" "$D/out" "$D/tiny" "$3"
  one_thread "$D/$2"
  M=$D/out/tiny
}
