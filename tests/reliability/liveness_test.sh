#!/usr/bin/env bash
# Liveness of temporary files by lock (docs/reliability.md): a writer holds
# flock on "<tmp>.lock" while it writes. A killed writer that is still a
# zombie (its parent has not reaped it) holds no lock: its temporary file is
# removed by the next writer. A live writer whose PID means nothing here
# (another PID namespace, another node) keeps its file.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/tiny"
write_config "$D/l.yaml" "$D/out" "$D/tiny" 4
run_stages l.yaml tokenize || fail "tokenize"
"$PYTHON" - "$B/attnmix-tokenize" "$D/l.yaml" "$D/out/tiny/tokens.h5" <<'PY' || fail "liveness by lock"
import fcntl, os, signal, subprocess, sys, time
prog, cfg, out = sys.argv[1:4]

def writer(pid_in_name, ready_path):
    """A writer as the stages are: lock first, then the temporary file."""
    tmp = f"{out}.tmp-{pid_in_name if pid_in_name else os.getpid()}"
    fd = os.open(tmp + ".lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    with open(tmp, "w") as f:
        f.write("partial output")
    open(ready_path, "w").write(tmp)
    time.sleep(600)

def start(pid_in_name, tag):
    ready = f"{out}.{tag}.ready"
    pid = os.fork()
    if pid == 0:
        try:
            writer(pid_in_name, ready)
        finally:
            os._exit(0)
    for _ in range(1000):
        if os.path.exists(ready):
            return pid, open(ready).read()
        time.sleep(0.01)
    sys.exit("the writer did not start")

def stage():
    r = subprocess.run([prog, "--config", cfg, "--force", "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tokenize failed: {r.stderr}")

# 1. A writer killed and left a zombie: kill(pid, 0) still says it exists.
pid, tmp = start(None, "zombie")
os.kill(pid, signal.SIGKILL)
for _ in range(500):
    if "State:\tZ" in open(f"/proc/{pid}/status").read():
        break
    time.sleep(0.01)
else:
    sys.exit("the killed writer did not become a zombie")
os.kill(pid, 0)  # the old liveness test would call it alive
stage()
if os.path.exists(tmp) or os.path.exists(tmp + ".lock"):
    sys.exit(f"the zombie's {tmp} (or its lock) was kept")
os.waitpid(pid, 0)
print("zombie writer: temporary file removed", file=sys.stderr)

# 2. A live writer whose PID does not exist here (another PID namespace).
ghost = 999999
while True:
    try:
        os.kill(ghost, 0)
        ghost -= 1
    except ProcessLookupError:
        break
pid, tmp = start(ghost, "ghost")
stage()
if not os.path.exists(tmp):
    sys.exit(f"the live writer's {tmp} was removed under it")
print("live writer with a foreign PID: temporary file kept", file=sys.stderr)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
stage()
if os.path.exists(tmp) or os.path.exists(tmp + ".lock"):
    sys.exit(f"{tmp} kept after its writer died")

# 3. A lock without a temporary file (a writer killed between the two) and a
# temporary file without a lock (an older attnmix) are removed too.
open(f"{out}.tmp-{ghost}.lock", "w").close()
open(f"{out}.tmp-{ghost - 1}", "w").close()
stage()
left = [n for n in os.listdir(os.path.dirname(out)) if ".tmp-" in n]
if left:
    sys.exit(f"left: {left}")
PY
ls out/tiny | grep -q ready && rm -f out/tiny/*.ready
echo "liveness: ok"
