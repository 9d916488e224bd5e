//! S3 and DynamoDB adapters for the cloudim storage ports.
//!
//! Feeds are S3 objects written with conditional requests (`If-Match`,
//! `If-None-Match: *`). Everything else lives in one DynamoDB table with a
//! string partition key `pk`, sort key `sk` and the TTL attribute
//! `expires_at`. [`keys`] is the only place that knows the key layout and
//! [`records`] the only place that knows attribute names.
//!
//! [`LambdaDispatcher`] is the asynchronous fan-out on AWS: publish hands
//! "this feed changed" to the notify function with an `Event` invocation.

mod dispatch;
mod feeds;
mod handshake;
mod keys;
mod records;
mod tables;
mod tenants;

pub use dispatch::{INTERNAL_API_ID, LambdaDispatcher, fanout_event, renew_event};

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification};
use cloudim_domain::StoreError;

/// Names of the resources, from configuration.
#[derive(Debug, Clone)]
pub struct AwsNames {
    /// The S3 bucket holding feeds.
    pub bucket: String,
    /// The DynamoDB table holding everything else.
    pub table: String,
}

/// The AWS store: S3 and DynamoDB clients, built once and shared.
#[derive(Clone)]
pub struct AwsStore {
    s3: aws_sdk_s3::Client,
    ddb: aws_sdk_dynamodb::Client,
    names: AwsNames,
}

impl AwsStore {
    /// Builds the clients from a loaded SDK configuration. With a custom
    /// endpoint (an emulator: `AWS_ENDPOINT_URL`), S3 uses path-style URLs.
    pub fn new(sdk: &aws_config::SdkConfig, names: AwsNames) -> Self {
        let path_style = sdk.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(path_style).build());
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        Self { s3, ddb, names }
    }

    /// Creates the bucket and the table (with TTL) if they do not exist;
    /// for emulators and first deployments without infrastructure code.
    pub async fn ensure_resources(&self) -> Result<(), StoreError> {
        match self.s3.create_bucket().bucket(&self.names.bucket).send().await {
            Ok(_) => tracing::info!(bucket = %self.names.bucket, "bucket created"),
            Err(e) => {
                let code = e.as_service_error().and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s)).unwrap_or("");
                if !matches!(code, "BucketAlreadyOwnedByYou" | "BucketAlreadyExists") {
                    return Err(backend("create bucket", e));
                }
            }
        }
        let created = self
            .ddb
            .create_table()
            .table_name(&self.names.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .send()
            .await;
        match created {
            Ok(_) => {
                tracing::info!(table = %self.names.table, "table created");
                let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name("expires_at").build().map_err(|e| backend("ttl spec", e))?;
                self.ddb.update_time_to_live().table_name(&self.names.table).time_to_live_specification(ttl).send().await.map_err(|e| backend("enable ttl", e))?;
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(backend("create table", e)),
        }
        Ok(())
    }
}

fn attr(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().map_err(|e| backend("attribute", e))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(|e| backend("key schema", e))
}

/// A backend error with the SDK's full error chain, for logs.
fn backend(what: &str, e: impl std::error::Error) -> StoreError {
    let mut msg = format!("{what}: {e}");
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    StoreError::Backend(msg)
}
