//! The gallery's own guard. Seeding an incident creates and deletes users, access keys,
//! policies, buckets and objects with an administrator's keys: that must only ever happen on a
//! server on this machine (the emulator, or Ceph RGW, that `scripts/demo.sh` started), never in
//! a real account. A `Sandbox` is made only from a session whose endpoint is on loopback, and
//! every client it hands out refuses, before sending, any request for another host (a
//! per-service endpoint setting cannot slip one through). The seeder gets its clients here
//! and nowhere else.

use std::net::IpAddr;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::aws::Session;

/// The admin's clients for seeding, each of which sends only to this machine.
pub struct Sandbox {
    session: Session,
}

impl Sandbox {
    /// The sandbox of `admin`, whose endpoint must be on this machine; `Err` says where it
    /// points instead, in one line.
    pub fn new(admin: Session) -> Result<Sandbox, String> {
        match admin.clients.endpoint_url() {
            Some(url) if is_local(url) => Ok(Sandbox { session: admin }),
            Some(url) => Err(format!(
                "the demo seeds only a server on this machine (127.0.0.1, ::1, localhost), and {url} is not one: it would create and delete users, keys and buckets there"
            )),
            None => Err("the demo seeds only a local emulator or Ceph RGW, and the admin profile has no endpoint URL: it would create and delete users, keys and buckets in a real AWS account".to_owned()),
        }
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        local_s3(&self.session.clients.s3)
    }

    /// S3 signed for `region` (buckets created there).
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        local_s3(&self.session.clients.s3_in(region))
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = self.session.clients.iam.config().to_builder();
        aws_sdk_iam::Client::from_conf(conf.interceptor(LocalOnly).build())
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = self.session.clients.sts.config().to_builder();
        aws_sdk_sts::Client::from_conf(conf.interceptor(LocalOnly).build())
    }
}

fn local_s3(s3: &aws_sdk_s3::Client) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3.config().to_builder().interceptor(LocalOnly).build())
}

/// True for a URL whose host is this machine: `localhost` or a loopback address.
fn is_local(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses, before it is sent, every request for a host that is not this machine.
#[derive(Debug)]
struct LocalOnly;

impl Intercept for LocalOnly {
    fn name(&self) -> &'static str {
        "s3doctor-gallery-local-only"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        if is_local(uri) {
            Ok(())
        } else {
            Err(
                format!("the demo sends nothing to {uri}: it only seeds a server on this machine")
                    .into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_local() {
        for url in [
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000/bucket/key?x-id=PutObject",
            "http://localhost:9000/",
            "http://[::1]:8080/b",
            "http://127.10.0.3/",
        ] {
            assert!(is_local(url), "{url}");
        }
        for url in [
            "https://s3.amazonaws.com/b",
            "https://iam.amazonaws.com/",
            "http://10.0.0.5:7480/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "http://user@example.com:80/",
        ] {
            assert!(!is_local(url), "{url}");
        }
    }

    /// A session with made-up static keys whose endpoint is `endpoint`.
    fn session(endpoint: Option<&str>) -> Session {
        use aws_credential_types::Credentials;
        use aws_credential_types::provider::SharedCredentialsProvider;
        let mut sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIAEXAMPLEEXAMPLE1",
                "not a secret",
                None,
                None,
                "test",
            )));
        if let Some(e) = endpoint {
            sdk = sdk.endpoint_url(e);
        }
        Session {
            clients: crate::aws::Clients::from_sdk_config(&sdk.build()),
            region: Some("us-east-1".into()),
            region_source: None,
            credential_source: "test".into(),
            key_id_hint: String::new(),
            expiry: None,
            temporary: false,
            assumed: Vec::new(),
        }
    }

    #[test]
    fn a_sandbox_is_made_only_for_a_server_on_this_machine() {
        let Err(why) = Sandbox::new(session(None)) else {
            panic!("a sandbox on AWS");
        };
        assert!(why.contains("in a real AWS account"), "{why}");
        let Err(why) = Sandbox::new(session(Some("https://s3.example.com"))) else {
            panic!("a sandbox on a remote server");
        };
        assert!(why.contains("https://s3.example.com is not one"), "{why}");
        assert!(Sandbox::new(session(Some("http://127.0.0.1:9"))).is_ok());
    }

    #[tokio::test]
    async fn its_clients_send_nothing_to_another_host() {
        let sandbox = Sandbox::new(session(Some("http://127.0.0.1:9"))).expect("local");
        // Its own endpoint is let through (nothing listens there: the connection is refused).
        let err = sandbox
            .iam()
            .create_user()
            .user_name("never")
            .send()
            .await
            .expect_err("nothing listens");
        let text = crate::aws::error_chain(&err);
        assert!(!text.contains("the demo sends nothing"), "{text}");
        // A client that points elsewhere (as a per-service endpoint setting would) is refused
        // before anything is sent.
        let elsewhere = sandbox
            .session
            .clients
            .iam
            .config()
            .to_builder()
            .endpoint_url("https://iam.amazonaws.com")
            .interceptor(LocalOnly)
            .build();
        let err = aws_sdk_iam::Client::from_conf(elsewhere)
            .create_user()
            .user_name("never")
            .send()
            .await
            .expect_err("refused");
        let text = crate::aws::error_chain(&err);
        assert!(
            text.contains("the demo sends nothing to https://iam.amazonaws.com"),
            "{text}"
        );
    }
}
