#!/usr/bin/python3
"""Checks the CRDs: generated files in sync, structural schemas with descriptions, printer
columns, and that their schemas accept or reject the sample objects in samples/ as each
sample's "# schema:" line says (the C++ side checks "# controller:" in samples_test.cc).

The validator below implements the subset of OpenAPI v3 that certsmith's CRDs use, with the API
server's semantics: unknown fields are pruned (not refused), oneOf/anyOf/not hold only
`required`. Usage: check_crds.py SOURCE_DIR. Exit 77 when python3-yaml is missing.
"""
import glob
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed (apt-get install python3-yaml)")
    sys.exit(77)

SRC = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CERTSMITH_SOURCE_DIR", ".")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def validate(schema, value, path, errors):
    t = schema.get("type")
    if t and not TYPES[t](value):
        errors.append(f"{path}: must be {t}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not in enum")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']}")
        if len(value) > schema.get("maxLength", 1 << 30):
            errors.append(f"{path}: too long")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: too short")
    if isinstance(value, int) and value < schema.get("minimum", -(1 << 62)):
        errors.append(f"{path}: below minimum")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        for n, item in enumerate(value):
            validate(schema.get("items", {}), item, f"{path}[{n}]", errors)
    if isinstance(value, dict):
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}.{req}: required")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                validate(props[k], v, f"{path}.{k}", errors)
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(schema["additionalProperties"], v, f"{path}.{k}", errors)
        for key, ok in (("oneOf", lambda n: n == 1), ("anyOf", lambda n: n >= 1)):
            if key in schema:
                n = sum(1 for br in schema[key] if not branch_errors(br, value))
                if not ok(n):
                    errors.append(f"{path}: {key} not satisfied ({n} branches match)")
        if "not" in schema and not branch_errors(schema["not"], value):
            errors.append(f"{path}: matches a forbidden combination")


def branch_errors(schema, value):
    if "anyOf" in schema:
        return [] if any(not branch_errors(b, value) for b in schema["anyOf"]) else ["anyOf"]
    errs = []
    validate(schema, value, "", errs)
    return errs


def check_structural(schema, path):
    """Every node typed (or preserving unknown fields) and every property described."""
    if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
        return
    if "type" not in schema:
        fail(f"{path}: no type (not a structural schema)")
    for k, sub in schema.get("properties", {}).items():
        if k != "metadata" and not sub.get("description"):
            fail(f"{path}.{k}: no description")
        check_structural(sub, f"{path}.{k}")
    if "items" in schema:
        check_structural(schema["items"], path + "[]")
    for key in ("oneOf", "anyOf", "not"):
        branches = schema.get(key, [])
        for br in branches if isinstance(branches, list) else [branches]:
            if set(br) - {"required", "anyOf"}:
                fail(f"{path}.{key}: only `required` is allowed in a structural {key}")


def load_crds():
    crds = {}
    for f in sorted(glob.glob(os.path.join(SRC, "crds", "*.yaml"))):
        doc = yaml.safe_load(open(f, encoding="utf-8"))
        if doc.get("apiVersion") != "apiextensions.k8s.io/v1":
            fail(f"{f}: not apiextensions.k8s.io/v1")
        spec = doc["spec"]
        version = spec["versions"][0]
        name = os.path.basename(f)
        if version.get("subresources", {}).get("status") != {}:
            fail(f"{name}: no status subresource")
        if "certsmith" not in spec["names"].get("categories", []):
            fail(f"{name}: not in the certsmith category")
        columns = [c["name"] for c in version.get("additionalPrinterColumns", [])]
        if "Age" not in columns or len(columns) < 3:
            fail(f"{name}: printer columns {columns}")
        check_structural(version["schema"]["openAPIV3Schema"], spec["names"]["kind"])
        crds[(spec["group"] + "/v1", spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return crds


def main():
    gen = subprocess.run([sys.executable, os.path.join(SRC, "crds", "generate.py"), "--check"],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        fail("generated CRDs out of date: " + gen.stderr.strip())
    crds = load_crds()
    if len(crds) != 5:
        fail(f"expected 5 CRDs, found {len(crds)}")
    samples = sorted(glob.glob(os.path.join(SRC, "tests", "unit", "api", "samples", "*.yaml")))
    examples = sorted(glob.glob(os.path.join(SRC, "examples", "*.yaml")))
    # cert-manager's documentation examples with apiVersion certsmith.io/v1 (issue #11).
    examples += sorted(glob.glob(os.path.join(SRC, "tests", "integration", "cmcompat", "examples",
                                              "*.yaml")))
    if len(samples) < 10:
        fail(f"only {len(samples)} samples")
    checked = 0
    for f in samples + examples:
        text = open(f, encoding="utf-8").read()
        m = re.search(r"^# schema: (accept|reject)$", text, re.M)
        want = m.group(1) if m else "accept"  # examples must be valid
        for doc in yaml.safe_load_all(text):
            key = (doc.get("apiVersion"), doc.get("kind")) if doc else None
            if key not in crds:
                continue
            errors = []
            validate(crds[key], doc, "", errors)
            got = "reject" if errors else "accept"
            checked += 1
            if got != want:
                fail(f"{os.path.basename(f)}: schema should {want}, got {got}: {errors}")
    print(f"{len(crds)} CRDs, {checked} objects checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
