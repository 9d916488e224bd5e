#!/usr/bin/env bash
# moto server for those without Docker: S3, DynamoDB and Lambda's API on
# 127.0.0.1:${PORT:-5000}, installed into a venv on first use.
set -euo pipefail
venv="${CLOUDIM_VENV:-$HOME/.cache/cloudim-venv}"
if ! "$venv/bin/python" -c "import moto" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi
echo "moto on http://127.0.0.1:${PORT:-5000}; export AWS_ENDPOINT_URL=http://127.0.0.1:${PORT:-5000}"
exec "$venv/bin/moto_server" -H 127.0.0.1 -p "${PORT:-5000}"
