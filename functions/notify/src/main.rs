//! The notify Lambda function: builds its state once, then serves
//! `cloudim_http::notify::router` through the Lambda runtime.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cloudim_bootstrap::run_function(cloudim_http::notify::router).await
}
