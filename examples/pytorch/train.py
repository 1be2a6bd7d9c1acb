#!/usr/bin/env python3
"""PyTorch trainer following the mlops command-trainer contract (docs/trainers.md).

Single process:      python3 examples/pytorch/train.py
Several GPUs:        torchrun --standalone --nproc_per_node=gpu examples/pytorch/train.py
                     (DistributedDataParallel over NCCL; rank 0 prints metrics and writes outputs)

Contract, in short:
  $MLOPS_PARAMS          params JSON: task, target, features, files, params (hyperparameters below)
  $MLOPS_INPUT_DIR       the data shard(s) as CSV with a header
  $MLOPS_OUTPUT_DIR      write model.onnx here
  $MLOPS_CHECKPOINT_DIR  state to resume from on the next attempt (print {"event": "checkpoint"})
  stdout                 one JSON object per line = metrics (epoch, trainLoss, valLoss, valMetric, ...)
  exit 65                bad input (missing column, empty data): the platform does not retry

Hyperparameters (params.params): epochs (20), batchSize (256), learningRate (1e-3), hidden ([64]),
validationFraction (0.1), seed (42), synthetic ({rows, features, classes}: generate data on the
device instead of reading files, for throughput checks).
"""
import csv
import json
import math
import os
import sys
import threading
import time

EX_DATAERR = 65


def bad_input(msg):
    print(msg, file=sys.stderr)
    sys.exit(EX_DATAERR)


def watch_stdin():
    # The worker keeps our stdin open; EOF means it died: exit so no orphan keeps the GPU.
    def run():
        try:
            while sys.stdin.read(1 << 16):
                pass
        except Exception:
            pass
        os._exit(1)

    threading.Thread(target=run, daemon=True).start()


def load_csv(paths, target, features):
    rows = []
    for p in paths:
        with open(p, newline="") as f:
            reader = csv.DictReader(f)
            if target not in (reader.fieldnames or []):
                bad_input(f'target column "{target}" is not in {os.path.basename(p)}; fix "target" in the run spec')
            rows.extend(reader)
    if not rows:
        bad_input("the input shard is empty; the dataset has no training rows")
    return rows


def main():
    import torch
    import torch.nn as nn

    watch_stdin()
    with open(os.environ["MLOPS_PARAMS"]) as f:
        params = json.load(f)
    hp = params.get("params") or {}
    epochs = int(hp.get("epochs", 20))
    batch = int(hp.get("batchSize", 256))
    lr = float(hp.get("learningRate", 1e-3))
    hidden = list(hp.get("hidden", [64]))
    seed = int(hp.get("seed", 42))
    val_frac = float(hp.get("validationFraction", 0.1))
    torch.manual_seed(seed)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")

    syn = hp.get("synthetic")
    if syn:
        n, d, k = int(syn.get("rows", 100000)), int(syn.get("features", 32)), int(syn.get("classes", 4))
        g = torch.Generator().manual_seed(seed)
        centers = torch.randn(k, d, generator=g) * 2
        y = torch.randint(0, k, (n,), generator=g)
        x = centers[y] + torch.randn(n, d, generator=g)
        classes = [str(i) for i in range(k)]
        names = [f"x{i}" for i in range(d)]
    else:
        target = params.get("target")
        feats = [f["name"] for f in params.get("features", []) if f.get("type") == "numeric"]
        if not target or not feats:
            bad_input("params need a target and at least one numeric feature (this example uses numeric features only)")
        files = [os.path.join(os.environ["MLOPS_INPUT_DIR"], f) for f in params.get("files", [])]
        if not files:
            bad_input("no data shard in $MLOPS_INPUT_DIR")
        rows = [r for r in load_csv(files, target, feats) if r[target] != ""]
        classes = sorted({r[target] for r in rows})
        if len(classes) < 2:
            bad_input(f'target "{target}" has {len(classes)} class(es); classification needs at least 2')
        idx = {c: i for i, c in enumerate(classes)}

        def num(v):
            try:
                return float(v)
            except ValueError:
                return math.nan

        x = torch.tensor([[num(r[c]) for c in feats] for r in rows], dtype=torch.float32)
        y = torch.tensor([idx[r[target]] for r in rows])
        names = feats
        # Median imputation for missing values.
        med = torch.nanmedian(x, dim=0).values
        x = torch.where(torch.isnan(x), med.expand_as(x), x)

    n = x.shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(n * val_frac))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if world > 1:
        train_idx = train_idx[rank::world]
    mean, std = x[train_idx].mean(0), x[train_idx].std(0).clamp_min(1e-6)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", mean.clone())
            self.register_buffer("std", std.clone())
            layers, w = [], x.shape[1]
            for h in hidden:
                layers += [nn.Linear(w, h), nn.ReLU()]
                w = h
            layers.append(nn.Linear(w, len(classes)))
            self.body = nn.Sequential(*layers)

        def forward(self, numeric):
            return self.body((numeric - self.mean) / self.std)

    model = Net().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ck_path = os.path.join(os.environ["MLOPS_CHECKPOINT_DIR"], "state.pt")
    start = 0
    if os.path.exists(ck_path):
        state = torch.load(ck_path, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["epoch"]
        if rank == 0:
            print(f"resumed from epoch {start}", file=sys.stderr)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    xt, yt = x[train_idx].to(device), y[train_idx].to(device)
    xv, yv = x[val_idx].to(device), y[val_idx].to(device)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(start + 1, epochs + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        order = torch.randperm(xt.shape[0], device=device)
        total = 0.0
        for b in range(0, xt.shape[0], batch):
            i = order[b : b + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[i]), yt[i])
            loss.backward()
            opt.step()
            total += loss.detach() * i.shape[0]
        if device.type == "cuda":
            torch.cuda.synchronize()
        secs = time.perf_counter() - t0
        with torch.no_grad():
            logits = model(xv)
            val_loss = loss_fn(logits, yv).item()
            acc = (logits.argmax(1) == yv).float().mean().item()
        if rank == 0:
            print(
                json.dumps(
                    {
                        "epoch": epoch,
                        "trainLoss": (total / xt.shape[0]).item(),
                        "valLoss": val_loss,
                        "valMetric": acc,
                        "samplesPerSec": xt.shape[0] * world / secs,
                        "device": 1 if device.type == "cuda" else 0,
                    }
                ),
                flush=True,
            )
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch}, ck_path)
            print(json.dumps({"event": "checkpoint", "epoch": epoch}), flush=True)

    if rank == 0:
        model.eval().cpu()
        out = os.path.join(os.environ["MLOPS_OUTPUT_DIR"], "model.onnx")
        kwargs = dict(input_names=["numeric"], output_names=["logits"], dynamic_axes={"numeric": {0: "n"}, "logits": {0: "n"}}, opset_version=17)
        try:
            torch.onnx.export(model, (x[:2],), out, dynamo=False, **kwargs)
        except TypeError:  # older torch without the dynamo flag
            torch.onnx.export(model, (x[:2],), out, **kwargs)
        print(json.dumps({"event": "exported", "classes": len(classes), "features": len(names)}), flush=True)
    if world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
