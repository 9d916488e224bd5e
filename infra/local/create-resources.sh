#!/usr/bin/env bash
# Creates the feeds bucket and the table (with its TTL attribute) on an
# emulator: LocalStack (docker compose up) or moto (./moto.sh).
#   AWS_ENDPOINT_URL=http://127.0.0.1:4566 infra/local/create-resources.sh
# The schema is the one the AWS store creates (AwsStore::ensure_resources),
# so it cannot drift from the code.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL to the emulator, e.g. http://127.0.0.1:4566 (LocalStack) or http://127.0.0.1:5000 (moto)}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
exec cargo run --quiet -p cloudim -- admin create-resources --bucket "${CLOUDIM_BUCKET:-cloudim-feeds}" --table "${CLOUDIM_TABLE:-cloudim}"
