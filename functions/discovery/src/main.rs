//! The discovery Lambda function: builds its state once, then serves
//! `cloudim_http::discovery::router` through the Lambda runtime.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cloudim_bootstrap::init_tracing();
    let config = cloudim_bootstrap::Config::from_env()?;
    let built = cloudim_bootstrap::build(&config).await?;
    cloudim_bootstrap::run_lambda(cloudim_http::discovery::router(built.state)).await
}
