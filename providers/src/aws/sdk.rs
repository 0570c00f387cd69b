//! Loading the SDK configuration once, the same way for the provider and
//! the S3 state backend: the default credential chain (environment,
//! profiles, SSO, `AWS_ENDPOINT_URL`), with region and profile from the
//! configuration when it sets them.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The SDK configuration; `None` when no region is known from anywhere.
pub async fn load(region: Option<String>, profile: Option<String>) -> Option<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
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
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}
