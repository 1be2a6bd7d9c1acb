#!/usr/bin/env python3
"""A small driver that runs a trainer exactly as the command-trainer activity does, for machines
without the Node worker (e.g. a bare GPU box): input/output/checkpoint folders, params JSON, its own
process group, JSON-line metrics from stdout, exit 65 = bad input, last 50 stderr lines on failure,
and nvidia-smi sampled with the same query the GPU worker's gauges use (lib/hardware/gpus.ts).

  python3 examples/pytorch/run_contract.py --params '{"epochs": 5, "synthetic": {"rows": 200000}}' \
      -- python3 examples/pytorch/train.py
Prints one JSON summary line at the end.
"""
import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

QUERY = "index,name,memory.total,memory.used,utilization.gpu"


def smi():
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={QUERY}", "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10).stdout
    except Exception:
        return []
    gpus = []
    for line in out.strip().splitlines():
        f = [s.strip() for s in line.split(",")]
        if len(f) == 5 and f[0].isdigit():
            gpus.append({"index": int(f[0]), "name": f[1], "memoryTotalMiB": float(f[2]), "memoryUsedMiB": float(f[3]), "utilizationPct": float(f[4])})
    return gpus


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", default="{}")
    ap.add_argument("--timeout", type=float, default=540)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    work = tempfile.mkdtemp(prefix="mlops-cmd-")
    dirs = {k: os.path.join(work, k) for k in ("input", "output", "checkpoint")}
    for d in dirs.values():
        os.makedirs(d)
    params_path = os.path.join(dirs["input"], "params.json")
    with open(params_path, "w") as f:
        json.dump({"runId": "gpu-check", "attempt": 1, "task": "classification", "target": None, "features": [], "files": [], "params": json.loads(a.params)}, f)
    env = dict(os.environ, MLOPS_INPUT_DIR=dirs["input"], MLOPS_OUTPUT_DIR=dirs["output"], MLOPS_CHECKPOINT_DIR=dirs["checkpoint"], MLOPS_PARAMS=params_path, MLOPS_RUN_ID="gpu-check", MLOPS_ATTEMPT="1")
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append(smi())
            stop.wait(0.5)

    threading.Thread(target=sampler, daemon=True).start()
    t0 = time.time()
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    tail = collections.deque(maxlen=50)
    threading.Thread(target=lambda: [tail.append(l.rstrip()) for l in p.stderr], daemon=True).start()
    metrics = []
    timer = threading.Timer(a.timeout, lambda: os.killpg(p.pid, signal.SIGKILL))
    timer.start()
    for line in p.stdout:
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if "event" not in obj:
                metrics.append(obj)
                print("metric", json.dumps(obj), flush=True)
    code = p.wait()
    timer.cancel()
    stop.set()
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    model = os.path.join(dirs["output"], "model.onnx")
    busy = [g for s in samples for g in s]
    summary = {
        "exitCode": code,
        "badInput": code == 65,
        "seconds": round(time.time() - t0, 2),
        "modelOnnxBytes": os.path.getsize(model) if os.path.exists(model) else None,
        "epochs": len(metrics),
        "lastMetrics": metrics[-1] if metrics else None,
        "bestSamplesPerSec": max((m.get("samplesPerSec", 0) for m in metrics), default=None),
        "nvidiaSmiPeak": {
            "utilizationPct": max((g["utilizationPct"] for g in busy), default=None),
            "memoryUsedMiB": max((g["memoryUsedMiB"] for g in busy), default=None),
            "device": busy[0]["name"] if busy else None,
            "memoryTotalMiB": busy[0]["memoryTotalMiB"] if busy else None,
            "samples": len(samples),
        },
        "stderrTail": list(tail) if code != 0 else [],
    }
    print("SUMMARY " + json.dumps(summary), flush=True)
    sys.exit(0 if code == 0 else 1)


if __name__ == "__main__":
    main()
