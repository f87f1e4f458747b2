#!/usr/bin/python3
"""certsmith's own CRDs (crds/*.yaml) on the test API server, applied with kubectl: every CRD
becomes Established and every sample in tests/unit/api/samples is accepted or refused as its
`# schema: accept|reject` line says (the same samples the controller's validation tests use).
"""
import glob
import os
import re
import sys

from apiserver_fixture import SKIP, SOURCE_DIR, run_steps

CRDS = sorted(glob.glob(os.path.join(SOURCE_DIR, "crds", "*.yaml")))
SAMPLES = sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "unit", "api", "samples",
                                        "*.yaml")))


def crds_established(s, c):
    for path in CRDS:
        s.kubectl("apply", "-f", path)
    s.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=20s")
    _, out, _ = s.kubectl("get", "crds", "-o", "name")
    c.equal(len(out.split()), len(CRDS), "one Established CRD per file")


def samples_follow_schema(s, c):
    namespaces = set()
    for path in SAMPLES:
        with open(path) as f:
            text = f.read()
        namespaces.update(re.findall(r"namespace: *([a-z0-9-]+)", text))
    for ns in sorted(namespaces):
        s.apply(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
    for path in SAMPLES:
        with open(path) as f:
            text = f.read()
        m = re.search(r"^# schema: (accept|reject)", text, re.M)
        if not m:
            continue
        rc, out, err = s.kubectl("apply", "-f", path, check=False)
        got = "accept" if rc == 0 else "reject"
        c.equal(got, m.group(1), f"{os.path.basename(path)}: schema {m.group(1)}s it "
                                 f"({(out + err).strip()[:300]})")
        if rc == 0:
            s.kubectl("delete", "-f", path, "--wait=false", check=False)


def main():
    if not CRDS or not SAMPLES:
        print("SKIP: no crds/*.yaml or tests/unit/api/samples in this tree")
        return SKIP
    return run_steps("project_crds_test", (crds_established, samples_follow_schema))


if __name__ == "__main__":
    sys.exit(main())
