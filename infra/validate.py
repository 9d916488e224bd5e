"""Offline validation of the SAM template, as CI runs it.

1. Translate infra/template.yaml with aws-sam-translator (what `sam deploy`
   does before CloudFormation sees it), so bad references, runtimes and
   dependency cycles show up in the generated template.
2. cfn-lint the generated CloudFormation template.
3. checkov the generated template (skipped checks, each with its reason,
   are in infra/.checkov.yaml).

Usage: python infra/validate.py [OUT_DIR]   (writes OUT_DIR/template.json)
"""

import json
import os
import subprocess
import sys

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

HERE = os.path.dirname(os.path.abspath(__file__))


class NoManagedPolicies:
    """The template names no managed policies by name; nothing to look up."""

    def load(self):
        return {}


def main() -> int:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, ".out")
    os.makedirs(out_dir, exist_ok=True)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = cfn_yaml.load(os.path.join(HERE, "template.yaml"))
    # `sam package` replaces each local CodeUri with the uploaded zip's S3
    # location before the transform runs; do the same with a stand-in.
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            code = res["Properties"].get("CodeUri")
            if not (isinstance(code, str) and os.path.isdir(os.path.join(HERE, code))):
                raise SystemExit(f"{name}: CodeUri {code!r} is not a directory next to the template")
            res["Properties"]["CodeUri"] = f"s3://cloudim-packaged/{name}.zip"
    translated = transform(template, {}, NoManagedPolicies())
    out = os.path.join(out_dir, "template.json")
    with open(out, "w") as f:
        json.dump(translated, f, indent=2, default=str)
    resources = translated["Resources"]
    print(f"translated: {len(resources)} resources -> {out}")

    bin_dir = os.path.dirname(sys.executable)
    lint = subprocess.run([os.path.join(bin_dir, "cfn-lint"), "--", out])
    if lint.returncode != 0:
        print("cfn-lint found problems", file=sys.stderr)
        return 1
    print("cfn-lint: clean")

    checkov = subprocess.run(
        [
            os.path.join(bin_dir, "checkov"),
            "--quiet",
            "--skip-download",
            "--compact",
            "--framework", "cloudformation",
            "--config-file", os.path.join(HERE, ".checkov.yaml"),
            "--file", out,
        ]
    )
    if checkov.returncode != 0:
        print("checkov found problems", file=sys.stderr)
        return 1
    print("checkov: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
