//! The handshake Lambda function: its health route until its issue lands.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cloudim_bootstrap::init_tracing();
    cloudim_bootstrap::run_lambda(cloudim_http::health::handshake_router()).await
}
