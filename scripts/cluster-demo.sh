#!/usr/bin/env bash
# `make cluster-demo`: a Spark standalone cluster on loopback (one master, two workers
# of one core each, started with the spark-class launcher that pip's pyspark ships),
# the demo (synth + `airflow dags test fraud_nightly`) run against it by configuration
# alone (FRAUD_SPARK_MASTER, FRAUD_SPARK_CONF), evidence from the master's JSON and
# the workers' executor logs that the tasks ran on the workers, and the cluster
# stopped again, also when something fails. Logs and work dirs: .cluster/ (ignored).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/.venv/bin
DIR=${CLUSTER_DIR:-$ROOT/.cluster}
MASTER_PORT=${CLUSTER_MASTER_PORT:-7177}
UI_PORT=${CLUSTER_UI_PORT:-8180}
MASTER=spark://127.0.0.1:$MASTER_PORT
export SPARK_HOME=$("$BIN/python" -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR=$DIR/logs SPARK_NO_DAEMONIZE=1
export PYSPARK_PYTHON=$BIN/python   # executors import the project from the venv

for port in "$MASTER_PORT" "$UI_PORT" $((UI_PORT + 1)) $((UI_PORT + 2)); do
    if "$BIN/python" -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
        echo "port $port on 127.0.0.1 is taken: set CLUSTER_MASTER_PORT / CLUSTER_UI_PORT" >&2; exit 1
    fi
done
rm -rf "$DIR"; mkdir -p "$DIR/logs" "$DIR/worker-1" "$DIR/worker-2"
PIDS=()
stop() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "cluster stopped (logs: $DIR/logs)"
}
trap stop EXIT

"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$UI_PORT" > "$DIR/logs/master.log" 2>&1 &
PIDS+=($!)
for n in 1 2; do
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores 1 --memory 2g --work-dir "$DIR/worker-$n" --webui-port $((UI_PORT + n)) \
        "$MASTER" > "$DIR/logs/worker-$n.log" 2>&1 &
    PIDS+=($!)
done
"$BIN/python" - "$UI_PORT" <<'PY'
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/json/"
for _ in range(120):
    try:
        state = json.load(urllib.request.urlopen(url, timeout=2))
        if state.get("aliveworkers", 0) >= 2:
            print(f"master {state['url']} up with {state['aliveworkers']} workers, {state['cores']} cores")
            sys.exit(0)
    except OSError:
        pass
    time.sleep(1)
sys.exit(f"the standalone master at {url} did not report 2 workers within 120 s")
PY

# The whole difference from `make demo`: where Spark runs, set by configuration.
export FRAUD_SPARK_MASTER=$MASTER
export FRAUD_SPARK_CONF="spark.driver.host=127.0.0.1,spark.driver.bindAddress=127.0.0.1,spark.executor.cores=1,spark.executor.memory=1g,spark.cores.max=2"
export FRAUD_SPARK_DRIVER_MEMORY=${FRAUD_SPARK_DRIVER_MEMORY:-2g}
make -C "$ROOT" --no-print-directory demo DEMO_DIR="$DIR/demo"

echo; echo "evidence that the work ran on the workers:"
"$BIN/python" - "$UI_PORT" "$DIR" <<'PY'
import json, pathlib, re, sys, urllib.request
directory = pathlib.Path(sys.argv[2])
state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json/", timeout=5))
(directory / "master.json").write_text(json.dumps(state, indent=1))  # kept after the cluster stops
apps = state.get("activeapps", []) + state.get("completedapps", [])
for app in apps:
    print("  master: app %s '%s' cores=%s state=%s duration=%.0fs"
          % (app["id"], app["name"], app["cores"], app["state"], app["duration"] / 1000))
for worker in state.get("workers", []):
    print("  master: worker %s at %s:%s %s, cores used %s" % (worker["id"], worker["host"], worker["port"],
                                                              worker["state"], worker["coresused"]))
total = 0
for stderr in sorted(directory.glob("worker-*/app-*/*/stderr")):
    tasks = len(re.findall(r"Running task", stderr.read_text(errors="replace")))
    total += tasks
    print(f"  {stderr.relative_to(directory)}: executor log, {tasks} tasks run")
if not apps or total == 0:
    sys.exit("no application or executor task found on the cluster: the work did not run on the workers")
print(f"  {total} tasks ran in executors on the workers")
PY
