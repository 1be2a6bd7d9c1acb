# Benchmark-only helper for bench/features/pit-join.ts (never a product dependency): generates
# the label and feature data once (CSV for mlops, Parquet for Feast), and runs Feast's
# get_historical_features on it with a local file offline store, timing the join and reporting
# the peak RSS. Run with the benchmark venv: .venv/bin/python bench/features/feast_join.py ...
import argparse, json, os, resource, sys, time


def generate(args):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    span = 180 * 86400
    t0 = 1767225600  # 2026-01-01T00:00:00Z
    ent = rng.integers(0, args.entities, args.features)
    ts = t0 + rng.integers(0, span, args.features)
    f = pd.DataFrame({"customer_id": ent, "event_time": ts})
    # Feast breaks ties at one (entity, time) by created timestamp, mlops by file order: keep
    # one row per (entity, time) so both answer the same question.
    f = f.drop_duplicates(["customer_id", "event_time"]).reset_index(drop=True)
    f["amount"] = np.round(rng.random(len(f)) * 100, 3)
    f["orders"] = rng.integers(0, 20, len(f))
    f["customer_id"] = "c" + f["customer_id"].astype(str)
    f.to_csv(os.path.join(args.dir, "features.csv"), index=False)
    p = f.copy()
    p["event_time"] = pd.to_datetime(p["event_time"], unit="s", utc=True)
    p.to_parquet(os.path.join(args.dir, "features.parquet"), index=False)
    lab = pd.DataFrame(
        {
            "customer_id": "c" + pd.Series(rng.integers(0, args.entities, args.labels)).astype(str),
            "label_time": t0 + rng.integers(0, span + 30 * 86400, args.labels),
            "row": np.arange(args.labels),
            "y": rng.integers(0, 2, args.labels),
        }
    )
    lab.to_csv(os.path.join(args.dir, "labels.csv"), index=False)
    print(json.dumps({"featureRows": len(f), "labelRows": len(lab)}))


def feast_join(args):
    import pandas as pd
    from datetime import timedelta
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64, Int64
    from feast.repo_config import RepoConfig

    repo = os.path.join(args.dir, "feast_repo")
    os.makedirs(repo, exist_ok=True)
    config = RepoConfig(
        project="bench",
        provider="local",
        registry=os.path.join(repo, "registry.db"),
        offline_store={"type": "file"},
        online_store={"type": "sqlite", "path": os.path.join(repo, "online.db")},
        entity_key_serialization_version=3,
        repo_path=repo,
    )
    store = FeatureStore(config=config)
    customer = Entity(name="customer", join_keys=["customer_id"])
    source = FileSource(path=os.path.join(args.dir, "features.parquet"), timestamp_field="event_time")
    view = FeatureView(
        name="customer_stats",
        entities=[customer],
        ttl=timedelta(seconds=args.ttl_s),
        schema=[Field(name="amount", dtype=Float64), Field(name="orders", dtype=Int64)],
        source=source,
    )
    store.apply([customer, view])
    labels = pd.read_csv(os.path.join(args.dir, "labels.csv"))
    labels["event_timestamp"] = pd.to_datetime(labels["label_time"], unit="s", utc=True)
    started = time.perf_counter()
    df = store.get_historical_features(
        entity_df=labels[["customer_id", "event_timestamp", "row"]],
        features=["customer_stats:amount", "customer_stats:orders"],
    ).to_df()
    seconds = time.perf_counter() - started
    df = df.sort_values("row")
    df[["row", "amount", "orders"]].to_csv(os.path.join(args.dir, "feast-out.csv"), index=False)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peakRssBytes": rss, "rows": len(df)}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["generate", "join"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--labels", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=50_000)
    ap.add_argument("--ttl-s", type=int, default=30 * 86400)
    a = ap.parse_args()
    generate(a) if a.mode == "generate" else feast_join(a)
