#!/usr/bin/env bash
# attnmix view: the page in headless Chromium against the cube (view_browser.js,
# view_check.py), on a copy of the access run's output with token strings in
# /tokens, beside a model whose cube has none (positions numbered), one whose
# cube is being written and one whose cube is damaged; then the bad inputs: a
# port in use, an output directory whose only cube is being written, one with
# no cube. Each a message and an exit status, never a hang.
source "$(dirname "$0")/../pipeline/common.sh"
D=$1 RUN=$2
: "${ATTNMIX_NODE_MODULES:?}"
PW=${ATTNMIX_BROWSER_MODULES:-$ATTNMIX_NODE_MODULES/../../npm-browser/node_modules}/playwright-core
[[ -f $PW/package.json ]] || fail "playwright-core missing at $PW (tools/setup-deps.sh installs it)"
[[ -x /usr/bin/chromium ]] || fail "/usr/bin/chromium missing (tools/setup-deps.sh installs it)"
[[ -s $RUN/tiny/cube.h5 ]] || fail "no cube in $RUN (test access_hub_template makes it)"
rm -rf "$D"; mkdir -p "$D/out/tiny" "$D/out/old" "$D/out/writing" "$D/out/broken"
B=$ATTNMIX_BIN
cp "$RUN/tiny/cube.h5" "$D/out/old/cube.h5"
# a cube as written before token strings existed: no /tokens, no /key_tokens
$PYTHON - "$D/out/old/cube.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    for k in ("tokens", "key_tokens"):
        if k in f:
            del f[k]
PY
cp "$RUN/tiny/cube.h5" "$D/out/tiny/cube.h5"
cp -r "$RUN/figures" "$D/out/figures"
# token strings where the pipeline did not write them: "a|b" where the prompts differ, generated tokens after
$PYTHON - "$D/out/tiny/cube.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    if "tokens" not in f:
        P, A, S = f["attention"].shape[0], f["attention"].shape[1], f["attention"].shape[-1]
        n, T = f["length"][()], f["prompt_length"][()]
        t = np.empty((P, A, S), object)
        for p in range(P):
            for a in range(A):
                for s in range(S):
                    t[p, a, s] = "" if s >= n[p, a] else (f"a{s}|b{s} é" if s < T[p] else f"gen{s}")
        f["tokens"] = t.astype(h5py.string_dtype())
PY
sleep 600 & writer=$!
trap 'kill $writer 2>/dev/null; [[ -n ${view:-} ]] && kill $view 2>/dev/null; true' EXIT
: > "$D/out/writing/cube.h5.tmp-$writer"
head -c 4096 /dev/urandom > "$D/out/broken/cube.h5"

# http URL [METHOD] [HOST]: the status, a space, the body
http() {
  $PYTHON - "$@" <<'PY'
import sys, http.client, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
c.putrequest(sys.argv[2] if len(sys.argv) > 2 else "GET", u.path + ("?" + u.query if u.query else ""), skip_host=True)
c.putheader("Host", sys.argv[3] if len(sys.argv) > 3 else u.netloc)
c.endheaders()
r = c.getresponse()
print(r.status, r.read().decode("utf-8", "replace"))
PY
}

# start: the URL on stdout (port 0: any free port)
start_view() { # OUTDIR LOG [args]: sets view, url
  local out=$1 log=$2; shift 2
  "$B/attnmix" view "$out" "$@" > "$log.url" 2> "$log" & view=$!
  for _ in $(seq 100); do [[ -s $log.url ]] && break; kill -0 $view 2>/dev/null || break; sleep 0.1; done
  url=$(head -1 "$log.url")
  [[ $url == http://127.0.0.1:* ]] || fail "viewer did not start: $(cat "$log")"
}
start_view "$D/out" "$D/view.log" --port 0
grep -q "old/cube.h5 has no /tokens" "$D/view.log" || fail "no note about the cube without /tokens: $(cat "$D/view.log")"
grep -q "the cube of model 'writing' is being written" "$D/view.log" || fail "no note about the cube being written"
grep -q "broken/cube.h5" "$D/view.log" || fail "no note about the damaged cube"
! grep -q "HDF5-DIAG" "$D/view.log" || fail "HDF5's error stack on the terminal: $(cat "$D/view.log")"

node "$(dirname "$0")/view_browser.js" "$url" "$PW" > "$D/browser.json" || fail "browser run failed: $(cat "$D/browser.json")"
$PYTHON "$(dirname "$0")/view_check.py" "$D/out/tiny/cube.h5" < "$D/browser.json" || fail "viewer check (see $D/browser.json)"
# the model without /tokens: numbered positions
VIEW_MODEL=old node "$(dirname "$0")/view_browser.js" "$url" "$PW" > "$D/browser_old.json" || fail "browser run (old) failed"
$PYTHON "$(dirname "$0")/view_check.py" "$D/out/old/cube.h5" < "$D/browser_old.json" || fail "viewer check of the cube without /tokens"
# the API refuses what is not there
port=${url##*:}; port=${port%/}
# (models in name order: broken 0, old 1, tiny 2, writing 3)
for q in "model=9&pair=0&alpha=0&layer=0&head=0" "model=2&pair=0&alpha=0&layer=0&head=-1" "model=2&pair=x&alpha=0&layer=0&head=0" \
         "model=2&pair=0&alpha=0&layer=4&head=0" "model=2&pair=0&alpha=0&layer=0&head=0&diff=3"; do
  code=$(http "${url}api/map?$q" | cut -d' ' -f1)
  [[ $code == 400 ]] || fail "api/map?$q: status $code"
done
http "${url}api/map?model=3&pair=0&alpha=0&layer=0&head=0" | grep -q "^404 .*is being written" || fail "model being written: no message"
http "${url}api/map?model=0&pair=0&alpha=0&layer=0&head=0" | grep -q "^404 .*broken/cube.h5" || fail "damaged model: no message"
code=$(http "${url}api/index" POST | cut -d' ' -f1); [[ $code == 405 ]] || fail "POST: $code"
code=$(http "${url}api/index" GET "attacker.example:$port" | cut -d' ' -f1)
[[ $code == 403 ]] || fail "a foreign Host header: $code"

# a port in use: a message and exit status 2, at once
set +e
timeout 10 "$B/attnmix" view "$D/out" --port "$port" > /dev/null 2> "$D/inuse.log"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "127.0.0.1:$port: the port is in use" "$D/inuse.log" ||
  fail "port in use: rc $rc: $(cat "$D/inuse.log")"
# Ctrl-C or SIGTERM: a clean stop (status 0; under the sanitizers, no report)
kill -TERM $view; set +e; wait $view; rc=$?; set -e; view=
[[ $rc == 0 ]] || fail "viewer stopped with status $rc: $(tail -20 "$D/view.log")"
! grep -qE "Sanitizer|runtime error" "$D/view.log" || fail "sanitizer report: $(cat "$D/view.log")"

# only a cube being written; no cube at all
mkdir -p "$D/out2/m" "$D/out3"
: > "$D/out2/m/cube.h5.tmp-$writer"
set +e
timeout 10 "$B/attnmix" view "$D/out2" --port 0 > /dev/null 2> "$D/writing.log"; rc=$?
timeout 10 "$B/attnmix" view "$D/out3" --port 0 > /dev/null 2> "$D/empty.log"; rc3=$?
timeout 10 "$B/attnmix" view "$D/nonexistent" --port 0 > /dev/null 2> "$D/missing.log"; rc4=$?
set -e
[[ $rc == 1 ]] && grep -q "the cube of model 'm' is being written ($D/out2/m/cube.h5.tmp-$writer)" "$D/writing.log" ||
  fail "cube being written: rc $rc: $(cat "$D/writing.log")"
[[ $rc3 == 1 ]] && grep -q "holds no OUT/<model>/cube.h5" "$D/empty.log" || fail "no cube: rc $rc3: $(cat "$D/empty.log")"
[[ $rc4 == 1 ]] && grep -q "nonexistent" "$D/missing.log" || fail "missing dir: rc $rc4: $(cat "$D/missing.log")"
echo "ok"
