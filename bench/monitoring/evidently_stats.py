# Evidently's own stat tests on the raw generated columns (bench/monitoring/evidently.ts writes
# them): PSI, normalised Wasserstein, Jensen-Shannon and KS for numeric columns; PSI,
# Jensen-Shannon and chi-square for categorical ones, and the two-proportion Z-test as well for
# binary ones ("bin", Evidently's default there with a small reference). Prints {"version", "cases": {name: {stat: value}}}.
# Benchmark only: run from the .venv made for it (python3 -m venv .venv && .venv/bin/pip install evidently).
import json
import sys

import pandas as pd
from evidently import __version__
from evidently.legacy.calculations.stattests.chisquare_stattest import chi_stat_test
from evidently.legacy.calculations.stattests.jensenshannon import jensenshannon_stat_test
from evidently.legacy.calculations.stattests.ks_stattest import ks_stat_test
from evidently.legacy.calculations.stattests.psi import psi_stat_test
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import wasserstein_stat_test
from evidently.legacy.calculations.stattests.z_stattest import z_stat_test
from evidently.legacy.core import ColumnType

cases = json.load(open(sys.argv[1]))
out = {}
for case in cases:
    ref = pd.Series(case["reference"])
    cur = pd.Series(case["current"])
    if case["type"] == "num":
        t = ColumnType.Numerical
        tests = {"psi": psi_stat_test, "wasserstein": wasserstein_stat_test, "ks_p": ks_stat_test}
    else:
        t = ColumnType.Categorical
        tests = {"psi": psi_stat_test, "jensen_shannon": jensenshannon_stat_test, "chi2_p": chi_stat_test}
        if case["type"] == "bin":
            tests["z_p"] = z_stat_test
    out[case["name"]] = {name: float(test.func(ref, cur, t, 0.1)[0]) for name, test in tests.items()}
print(json.dumps({"version": __version__, "cases": out}))
