#!/usr/bin/env python3
"""jsoncmp.py A B -- exit 0 when two JSON documents are equal, numbers to
1e-9 (relative, or absolute near zero); else print the first difference."""
import json
import math
import sys


def diff(a, b, path):
    if isinstance(a, bool) or isinstance(b, bool):
        return None if a == b else f"{path}: {a!r} != {b!r}"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
            return None
        return f"{path}: {a!r} != {b!r}"
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if sorted(a) != sorted(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            d = diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main():
    docs = []
    for p in sys.argv[1:3]:
        with open(p) as f:
            text = f.read()
        try:
            docs.append(json.loads(text))
        except ValueError as e:
            print(f"{p}: not JSON: {e}: {text[:200]!r}")
            return 1
    d = diff(docs[0], docs[1], "$")
    if d:
        print(d)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
