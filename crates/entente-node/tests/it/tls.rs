//! The node over TLS: the development PKI of `entente_node::pki`, the CA as the only root, and
//! mutual TLS with client certificates issued by the same CA.

use entente_node::pki::DevCa;

use crate::sandbox::Sandbox;

#[tokio::test]
async fn serves_taxii_over_tls_to_clients_that_trust_its_ca() {
    let s = Sandbox::start_tls(|_| {}).await;
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let a = s.get("fra", "/taxii2/").await;
    assert_eq!(a.status, 200, "{}", a.text);
    // The discovery document names the API root with the scheme clients use.
    assert_eq!(a.json()["api_roots"][0], format!("{}/api/", s.base));
    let health = s.client.get(s.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // A client that does not trust the node's CA cannot connect.
    let stranger = DevCa::generate("another CA").unwrap();
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(stranger.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let e = untrusting.get(s.url("/health")).send().await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = s.base.replacen("https://", "http://", 1);
    assert!(reqwest::get(format!("{plain}/health")).await.is_err());
    s.stop().await;
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_of_the_ca() {
    let s = Sandbox::start_tls(|c| {
        let tls = c.tls.as_mut().unwrap();
        tls.client_ca = Some(tls.cert.with_file_name("ca.pem"));
    })
    .await;
    let tls = s.dir().join("tls");
    let ca = DevCa::load(&tls.join("ca.pem"), &tls.join("ca.key")).unwrap();
    let root = reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap();

    // Without a client certificate, the handshake fails.
    let anonymous = s.client.get(s.url("/health")).send().await;
    assert!(anonymous.is_err(), "{anonymous:?}");

    // With one issued by the node's CA, the node answers.
    let peer = ca.issue_client("GBR").unwrap();
    let identity =
        reqwest::Identity::from_pem(format!("{}{}", peer.cert_pem, peer.key_pem).as_bytes())
            .unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([root.clone()])
        .identity(identity)
        .build()
        .unwrap();
    let ok = client.get(s.url("/health")).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    // One issued by another CA is refused.
    let other = DevCa::generate("another CA")
        .unwrap()
        .issue_client("GBR")
        .unwrap();
    let identity =
        reqwest::Identity::from_pem(format!("{}{}", other.cert_pem, other.key_pem).as_bytes())
            .unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .identity(identity)
        .build()
        .unwrap();
    assert!(client.get(s.url("/health")).send().await.is_err());
    s.stop().await;
}
