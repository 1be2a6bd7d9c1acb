// The drift gauges of the latest monitoring window of each model (the CPU worker's /metrics), set
// from the window's report whatever its status: a window without a verdict (insufficient_data,
// no_reference) still sets its rows and removes the model's drift series, so a dashboard never
// shows an older window's drift as the current one. The prediction distribution has gauges of its
// own rather than a made-up feature name, which a real column could share.
import { Gauge, type Registry } from 'prom-client';
import type { MonitoringReportDoc } from '../store/monitoring';

const STATS = 'ks, ks_p, wasserstein, psi, chi2, chi2_p, z, z_p, jensen_shannon';

function makeGauges(registry: Registry) {
  const gauge = (name: string, help: string, labelNames: string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    feature: gauge(
      'mlops_feature_drift',
      `Drift statistic of a feature (method: ${STATS}) in the latest monitoring window`,
      ['model', 'feature', 'method']
    ),
    drifted: gauge(
      'mlops_feature_drifted',
      '1 when the feature drifted in the latest monitoring window (by its deciding method), else 0',
      ['model', 'feature']
    ),
    prediction: gauge(
      'mlops_prediction_drift',
      `Drift statistic of the predictions (method: ${STATS}) in the latest monitoring window`,
      ['model', 'method']
    ),
    predictionDrifted: gauge(
      'mlops_prediction_drifted',
      '1 when the predictions drifted in the latest monitoring window (by the deciding method), else 0',
      ['model']
    ),
    share: gauge('mlops_dataset_drift_share', 'Share of drifted features in the latest monitoring window', ['model']),
    rows: gauge('mlops_monitoring_window_rows', 'Rows (all answered requests) in the latest monitoring window', [
      'model',
    ]),
  };
}

/** Once per registry: prom-client refuses a second metric of the same name. */
const gaugesByRegistry = new WeakMap<Registry, ReturnType<typeof makeGauges>>();

/** Replaces the model's series with those of this window's report. */
export async function publishWindowGauges(registry: Registry, report: MonitoringReportDoc): Promise<void> {
  let g = gaugesByRegistry.get(registry);
  if (!g) gaugesByRegistry.set(registry, (g = makeGauges(registry)));
  const model = report.model;
  // Whole series go, not just values: a feature or statistic absent from this window (another
  // version's columns, a window without a verdict) must not keep an older window's value.
  for (const gauge of [g.feature, g.drifted, g.prediction, g.predictionDrifted, g.share]) {
    for (const { labels } of (await gauge.get()).values) if (labels.model === model) gauge.remove(labels);
  }
  g.rows.set({ model }, report.rows);
  if (report.status !== 'ok') return;
  for (const f of report.features) {
    for (const [method, value] of Object.entries(f.stats)) g.feature.set({ model, feature: f.name, method }, value);
    g.drifted.set({ model, feature: f.name }, f.drifted ? 1 : 0);
  }
  if (report.prediction) {
    for (const [method, value] of Object.entries(report.prediction.stats)) g.prediction.set({ model, method }, value);
    g.predictionDrifted.set({ model }, report.prediction.drifted ? 1 : 0);
  }
  g.share.set({ model }, report.dataset?.share ?? 0);
}
