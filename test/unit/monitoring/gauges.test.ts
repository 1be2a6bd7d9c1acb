// The drift gauges follow the latest window of each model: features and predictions of an `ok`
// window, and for a window without a verdict its rows and no drift series at all (never the
// previous window's), leaving other models' series alone.
import { Registry } from 'prom-client';
import type { ColumnDrift } from '../../../lib/monitoring/drift';
import { publishWindowGauges } from '../../../lib/monitoring/gauges';
import type { MonitoringReportDoc } from '../../../lib/store/monitoring';

function column(name: string, drifted: boolean, stats: ColumnDrift['stats']): ColumnDrift {
  return {
    name,
    type: 'numeric',
    method: 'ks',
    score: stats.ks_p ?? 0,
    threshold: 0.05,
    drifted,
    stats,
    count: 10,
    missingRate: 0,
    referenceMissingRate: 0,
    outOfRangeRate: 0,
    histogram: { labels: [], reference: [], current: [] },
  };
}

function report(model: string, status: MonitoringReportDoc['status'], rows: number): MonitoringReportDoc {
  const ok = status === 'ok';
  return {
    _id: `${model}:1`,
    model,
    version: 1,
    window: { from: new Date(0), to: new Date(1) },
    computedAt: new Date(1),
    status,
    requests: rows,
    rows,
    minRows: 100,
    features: ok ? [column('mass', true, { ks: 0.4, ks_p: 0.001 })] : [],
    prediction: ok ? column('label', false, { ks: 0.02, ks_p: 0.9 }) : null,
    dataset: ok ? { columns: 1, driftedColumns: 1, share: 1, driftShare: 0.5, drifted: true } : null,
    drifted: ok,
    thresholds: {},
    quality: null,
    html: null,
  };
}

async function series(registry: Registry): Promise<string> {
  return (await registry.metrics())
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .sort()
    .join('\n');
}

describe('drift gauges', () => {
  it('an ok window sets every feature and prediction statistic, verdict, share and rows', async () => {
    const registry = new Registry();
    await publishWindowGauges(registry, report('m', 'ok', 300));
    expect(await series(registry)).toBe(
      [
        'mlops_dataset_drift_share{model="m"} 1',
        'mlops_feature_drift{model="m",feature="mass",method="ks"} 0.4',
        'mlops_feature_drift{model="m",feature="mass",method="ks_p"} 0.001',
        'mlops_feature_drifted{model="m",feature="mass"} 1',
        'mlops_monitoring_window_rows{model="m"} 300',
        'mlops_prediction_drift{model="m",method="ks"} 0.02',
        'mlops_prediction_drift{model="m",method="ks_p"} 0.9',
        'mlops_prediction_drifted{model="m"} 0',
      ]
        .sort()
        .join('\n')
    );
  });

  it.each(['insufficient_data', 'no_reference'] as const)(
    'after an ok window, a %s one shows its own rows and no drift',
    async (status) => {
      const registry = new Registry();
      await publishWindowGauges(registry, report('m', 'ok', 300));
      await publishWindowGauges(registry, report('other', 'ok', 500));
      await publishWindowGauges(registry, report('m', status, 7));
      const text = await series(registry);
      expect(text).toContain('mlops_monitoring_window_rows{model="m"} 7');
      expect(text).not.toMatch(/^mlops_(feature|prediction|dataset)_drift\w*\{model="m"/m);
      // Another model's series are its own.
      expect(text).toContain('mlops_feature_drifted{model="other",feature="mass"} 1');
      expect(text).toContain('mlops_monitoring_window_rows{model="other"} 500');
    }
  );

  it('a feature gone from the next ok window loses its series', async () => {
    const registry = new Registry();
    await publishWindowGauges(registry, report('m', 'ok', 300));
    const next = report('m', 'ok', 200);
    next.features = [column('height', false, { ks: 0.1 })];
    await publishWindowGauges(registry, next);
    const text = await series(registry);
    expect(text).toContain('mlops_feature_drift{model="m",feature="height",method="ks"} 0.1');
    expect(text).not.toContain('feature="mass"');
  });
});
