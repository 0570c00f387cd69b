//! Loading the SDK configuration once, the same way for the provider and
//! the S3 state backend: the default credential chain (environment,
//! profiles, SSO, `AWS_ENDPOINT_URL`), with region and profile from the
//! configuration when it sets them.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;

use super::calls::Counter;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};

/// Attempts per call, the first included. AWS answers 500, 503 and
/// throttling now and then; the SDK's default of 3 gives up too soon on a
/// run of a few hundred calls.
const ATTEMPTS: u32 = 6;

/// The SDK configuration; `None` when no region is known from anywhere.
pub async fn load(region: Option<String>, profile: Option<String>) -> Option<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(ATTEMPTS));
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    let sdk = loader.load().await;
    sdk.region().is_some().then_some(sdk)
}

/// An S3 client. With an overridden endpoint (a local emulator, an S3
/// compatible store) addressing is path-style: `bucket.localhost` does not
/// resolve, and the SDK picks path-style by itself only for IP addresses.
pub fn s3(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .retry_classifier(LostAnswer)
        .interceptor(Counter)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn ec2(sdk: &SdkConfig) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(sdk).retry_classifier(LostAnswer).interceptor(Counter).build(),
    )
}

pub fn route53(sdk: &SdkConfig) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::config::Builder::from(sdk).retry_classifier(LostAnswer).interceptor(Counter).build(),
    )
}

pub fn elb(sdk: &SdkConfig) -> aws_sdk_elasticloadbalancing::Client {
    let config = aws_sdk_elasticloadbalancing::config::Builder::from(sdk)
        .retry_classifier(LostAnswer)
        .interceptor(Counter)
        .build();
    aws_sdk_elasticloadbalancing::Client::from_conf(config)
}

/// IAM: global, its endpoint chosen by the region's partition.
pub fn iam(sdk: &SdkConfig) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(sdk).retry_classifier(LostAnswer).interceptor(Counter).build(),
    )
}

/// STS, for who the caller is (`caller_identity`).
pub fn sts(sdk: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk).retry_classifier(LostAnswer).interceptor(Counter).build(),
    )
}

/// Retries a call whose connection closed before its answer came (hyper's
/// "connection closed before message completed"), which the SDK leaves
/// alone because the call may have been acted upon. Every call k8sinfra
/// makes may be repeated: reads and most changes are idempotent, a repeat
/// that is not (a rule already there) fails with AWS's own error, and the
/// creates AWS would duplicate go through `create_once`, which turns SDK
/// retries off and looks before it tries again.
#[derive(Debug)]
struct LostAnswer;

impl ClassifyRetry for LostAnswer {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(error)) => match error.as_connector_error() {
                Some(connector) if !connector.is_user() => RetryAction::transient_error(),
                _ => RetryAction::NoActionIndicated,
            },
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "LostAnswer"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use aws_config::retry::RetryMode;

    /// Every call is tried six times (the first included), in the SDK's
    /// standard mode: exponential backoff with jitter, and a retry quota.
    #[tokio::test]
    async fn every_call_is_tried_six_times() {
        let sdk = super::load(Some("us-east-1".into()), None).await.expect("a region");
        let retry = sdk.retry_config().expect("a retry configuration");
        assert_eq!((retry.max_attempts(), retry.mode()), (6, RetryMode::Standard));
    }
}
