//! The fan-out on AWS: the publish function invokes the notify function
//! asynchronously (`InvocationType=Event`), so a publisher never waits for
//! subscribers and a frozen publish instance loses nothing. Lambda queues
//! the event, retries a failed invocation twice, and then hands it to the
//! function's failure destination (see `infra/`).
//!
//! The event is an API Gateway HTTP API (v2) request for `POST
//! /internal/fanout`, so the notify function's one router serves it. Its
//! `requestContext.apiId` is [`INTERNAL_API_ID`]: only a direct invocation
//! (which needs `lambda:InvokeFunction`) can carry that value; requests
//! through a function URL or API Gateway carry their AWS-assigned id, so
//! nobody outside can trigger a fan-out that way.

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use cloudim_domain::{Dispatcher, StoreError};
use cloudim_protocol::{FeedId, Tenant};

/// The `requestContext.apiId` of fan-out events.
pub const INTERNAL_API_ID: &str = "cloudim-internal-fanout";

/// Hands fan-outs to the notify function with asynchronous invocations.
#[derive(Clone)]
pub struct LambdaDispatcher {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaDispatcher {
    /// A dispatcher invoking `function` (name or ARN of the notify function).
    pub fn new(sdk: &aws_config::SdkConfig, function: &str) -> Self {
        Self { client: aws_sdk_lambda::Client::new(sdk), function: function.to_owned() }
    }
}

/// The fan-out event for one feed of one tenant.
pub fn fanout_event(tenant: &Tenant, feed: &FeedId) -> serde_json::Value {
    let body = serde_json::json!({ "tenant": tenant.as_str(), "feed": feed.as_str() }).to_string();
    internal_event(tenant.as_str(), "/internal/fanout", &body)
}

/// The scheduled renewal event (`POST /internal/renew`), which an
/// EventBridge schedule sends to the notify function as its constant input.
pub fn renew_event() -> serde_json::Value {
    internal_event("internal", "/internal/renew", "{}")
}

/// An API Gateway v2 event for an internal route, marked with [`INTERNAL_API_ID`].
fn internal_event(host: &str, path: &str, body: &str) -> serde_json::Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "host": host, "content-type": "application/json", "x-forwarded-proto": "https" },
        "requestContext": {
            "accountId": "internal",
            "apiId": INTERNAL_API_ID,
            "domainName": host,
            "domainPrefix": "internal",
            "http": { "method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "cloudim-internal" },
            "requestId": "fanout",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/1970:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    })
}

#[async_trait]
impl Dispatcher for LambdaDispatcher {
    async fn feed_changed(&self, tenant: &Tenant, feed: &FeedId) -> Result<(), StoreError> {
        let payload = serde_json::to_vec(&fanout_event(tenant, feed)).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| StoreError::Backend(format!("invoking {} for the fan-out: {}", self.function, aws_sdk_lambda::error::DisplayErrorContext(&e))))?;
        Ok(())
    }
}
