import { MIN_GO_VERSION } from './versions';
import { ProvisionError, tryRun } from './run-command';
import { compareVersions, parseVersion } from './semver';

/** Fails with what to install when `go` is missing or older than FerretDB needs. */
export function requireGo(purpose: string): void {
  const out = tryRun('go', ['version']);
  const version = out && /go(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
  if (!version) {
    throw new ProvisionError(
      `${purpose} needs the Go toolchain (>= ${MIN_GO_VERSION}), and \`go\` was not found on PATH. ` +
        `Install it from your package manager (e.g. apt-get install golang-go) or go.dev/dl, then run again.`
    );
  }
  if (compareVersions(version, MIN_GO_VERSION) < 0) {
    throw new ProvisionError(
      `${purpose} needs Go >= ${MIN_GO_VERSION}; found go ${version}. Upgrade Go, then run again.`
    );
  }
}

export function requirePip(purpose: string): void {
  const out = tryRun('python3', ['-m', 'pip', '--version']);
  if (!out || !parseVersion(out)) {
    throw new ProvisionError(
      `${purpose} needs Python 3 with pip (\`python3 -m pip\`), which was not found. ` +
        `Install it (e.g. apt-get install python3-pip), or set MLOPS_TEMPORAL_CLI_ROUTE=go to build from Go instead.`
    );
  }
}
