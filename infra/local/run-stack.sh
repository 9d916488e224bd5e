#!/usr/bin/env bash
# The four Lambda functions, as release binaries, under a local Lambda
# Runtime API (`cargo lambda watch --only-lambda-apis`), on an emulator's
# S3 and DynamoDB. No AWS account, no Docker (with moto).
#
#   infra/local/moto.sh &                        # or: docker compose up
#   export AWS_ENDPOINT_URL=http://127.0.0.1:5000
#   infra/local/create-resources.sh
#   infra/local/run-stack.sh
#
# Then invoke with API Gateway v2 events, or plain HTTP through function URLs:
#   curl -H 'host: 127.0.0.1' http://127.0.0.1:9000/lambda-url/cloudim-fn-discovery/u/alice
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL to the emulator (see infra/local/create-resources.sh)}"
port="${PORT:-9000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudim-target}"
lambda_dir="$CARGO_TARGET_DIR/lambda-x86_64"
cargo lambda build --release --x86-64 --lambda-dir "$lambda_dir" \
  -p cloudim-fn-discovery -p cloudim-fn-handshake -p cloudim-fn-publish -p cloudim-fn-notify
cargo lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" &
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
sleep 2
for f in discovery handshake publish notify; do
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/cloudim-fn-$f" AWS_LAMBDA_FUNCTION_NAME="cloudim-fn-$f" \
  AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_LOG_FORMAT=JSON \
  AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$port" AWS_REGION="${AWS_REGION:-us-east-1}" \
  AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}" \
  CLOUDIM_STORE=aws CLOUDIM_BUCKET="${CLOUDIM_BUCKET:-cloudim-feeds}" CLOUDIM_TABLE="${CLOUDIM_TABLE:-cloudim}" \
  CLOUDIM_FANOUT_FUNCTION=cloudim-fn-notify CLOUDIM_RENEW_EVERY_SECS=0 CLOUDIM_TENANTS="${CLOUDIM_TENANTS:-*}" \
    "$lambda_dir/cloudim-fn-$f/bootstrap" &
  pids+=($!)
done
echo "four functions on the Lambda emulator at http://127.0.0.1:$port (Ctrl-C stops them)"
wait
