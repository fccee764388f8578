"""Dependency audit for CI: pip-audit over the project's virtual environment.

Fails (exit 1) on a known vulnerability that has a fixed release, so the pin
can be raised; lists the ones without a fix. If the vulnerability service
cannot be reached at all, says so and does not fail the build on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        try:
            run = subprocess.run([sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
                                  "--skip-editable", "--timeout", "10", "--output", str(report)],
                                 capture_output=True, text=True, timeout=600)
            problem = f"exit {run.returncode}: {run.stderr.strip()[-500:]}"
        except subprocess.TimeoutExpired:
            problem = "no answer within 10 minutes"
        if not report.exists() or not report.read_text().strip():
            print(f"pip-audit could not run ({problem})\nthe dependency audit is skipped for this build",
                  file=sys.stderr)
            return 0
        found = json.loads(report.read_text())
    fixable, unfixed = [], []
    for dependency in found["dependencies"]:
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed release yet)")
    print(f"pip-audit: {len(found['dependencies'])} packages, {len(fixable)} fixable and {len(unfixed)} unfixed "
          "known vulnerabilities")
    for line in fixable + unfixed:
        print(f"  {line}")
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())
