#!/usr/bin/env bash
# The main job: start the DashScope emulator on 127.0.0.1, run the example DAG
# (submit -> deferrable sensor -> fetch to object storage -> a task reading the manifest) in a real
# Airflow with `airflow dags test`, then print the transcript and where it was written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

demo=$PWD/.demo
rm -rf "$demo" && mkdir -p "$demo/dags"
cp example_dags/example_qwenasr_meeting.py "$demo/dags/"
key=sk-emulator-demo-key-0123456789
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

.venv/bin/qwenasr-emulator --host 127.0.0.1 --port "$port" --api-key "$key" \
  --pending-seconds 1 --running-seconds 2 >"$demo/emulator.log" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true' EXIT
.venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):  # up to 20 s for the emulator to answer
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/emulator-api/clock", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the emulator did not start; see .demo/emulator.log")
PY

export AIRFLOW_HOME=$demo/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$demo/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW_CONN_QWEN_ASR_DEFAULT="{\"conn_type\": \"qwen_asr\", \"host\": \"http://127.0.0.1:$port/api/v1\", \"password\": \"$key\"}"
export AIRFLOW_VAR_QWENASR_OUTPUT_PATH=file://$demo/transcripts
echo "==> emulator on http://127.0.0.1:$port (pid $emulator_pid); Airflow home $AIRFLOW_HOME"
.venv/bin/airflow db migrate >"$demo/db-migrate.log" 2>&1
echo "==> airflow dags test example_qwenasr_meeting"
if ! .venv/bin/airflow dags test example_qwenasr_meeting >"$demo/dags-test.log" 2>&1; then
  tail -n 60 "$demo/dags-test.log"; echo "The DAG run failed; full log: $demo/dags-test.log"; exit 1
fi
grep -q "state=success" <(tr -d ' ' <"$demo/dags-test.log") || { tail -n 60 "$demo/dags-test.log"; exit 1; }
# The example's last task prints the transcript between these markers; show them without log prefixes.
.venv/bin/python - "$demo/dags-test.log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"=== TRANSCRIPT ===(.*?)=== END ===", text, re.S)
if not block:
    sys.exit("The example DAG did not print its transcript; see " + sys.argv[1])
for line in block.group(1).splitlines():
    # Airflow prefixes each task log line with a timestamp and logger fields; keep the message.
    message = re.sub(r"^.*?\[(?:info|warning)\s*\]\s*", "", line).split(" [airflow.task", 1)[0]
    message = re.sub(r"\s+chan=\S+.*$", "", message).rstrip()
    if message:
        print(message)
PY
echo "==> done: the DAG run succeeded. Logs: $demo/dags-test.log"
