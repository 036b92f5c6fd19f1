//! A FRA node with its console, users of several nations and clearances, and objects labelled
//! so that each user may see a different part of them.

use std::collections::HashMap;
use std::sync::Arc;

use entente_labels::{parse_marking, stix, PolicySet};
use entente_node::{auth, Node, NodeConfig};
use entente_store::{CollectionRight, User};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Site {
    pub base: String,
    pub node: Arc<Node>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// Serves `node` and its console (with its federation, if any) on a loopback port until `stop`
/// turns true: the base URL and the serving task.
pub async fn serve_console(
    node: Arc<Node>,
    federation: Option<Arc<entente_federation::Federation>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (String, tokio::task::JoinHandle<()>) {
    let console = entente_console::Console::new(node.clone(), federation).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        entente_node::serve_node_with(
            node,
            entente_console::router(console),
            listener,
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        )
        .await
        .unwrap();
    });
    (base, task)
}

/// An answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Site {
    pub async fn start() -> Site {
        Site::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut NodeConfig)) -> Site {
        // reqwest's TLS takes the process's default crypto provider: ring, as the node's own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::for_test("FRA".parse().unwrap(), dir.path());
        adjust(&mut config);
        let node = Node::open(config).await.unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (base, task) = serve_console(node.clone(), None, stopped).await;
        Site {
            base,
            node,
            stop,
            task,
            _dir: dir,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    pub async fn user(&self, name: &str, nation: &str, clearance: &str) {
        let (policy, level) = clearance.split_once(' ').unwrap();
        let user = User {
            name: name.into(),
            nation: nation.parse().unwrap(),
            clearance_policy: policy.into(),
            clearance_level: level.into(),
            clearance_caveats: Vec::new(),
            password_hash: Some(auth::hash_password(PASSWORD).unwrap()),
            rights: vec![CollectionRight {
                collection: "intel".into(),
                read: true,
                write: true,
            }],
        };
        self.node.store().put_user(&user).await.unwrap();
    }

    /// Posts objects (with their label marking definitions) as `user`.
    pub async fn publish(&self, user: &str, objects: Vec<Value>) {
        let stored = self.node.store().user(user).await.unwrap().unwrap();
        let envelope = json!({ "objects": objects }).to_string();
        let status = self
            .node
            .post_envelope(&stored, "intel", envelope.as_bytes())
            .await
            .unwrap();
        assert!(status.failures.is_empty(), "{:?}", status.failures);
    }

    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }
}

/// A client that keeps cookies, as a browser does (the console's are `Secure`, which a browser
/// would only send over TLS; the test node speaks plain HTTP on loopback).
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, r: reqwest::Response) -> Answer {
        for v in r.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let first = text.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Answer {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(r).await
    }

    /// Signs in; returns the session's CSRF token.
    pub async fn sign_in(&mut self, name: &str) -> String {
        let page = self.get("/console/signin").await;
        let token = hidden(&page.text, "csrf").unwrap();
        let a = self
            .post(
                "/console/signin",
                &[("name", name), ("password", PASSWORD), ("csrf", &token)],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text);
        let holdings = self.get("/console/holdings").await;
        assert_eq!(holdings.status, 200, "{}", holdings.text);
        hidden(&holdings.text, "csrf").unwrap()
    }
}

/// The value of the hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// A label as its marking definition.
pub fn marking(text: &str) -> Value {
    let policies = PolicySet::load(&entente_node::shipped_data().join("policies")).unwrap();
    let label = parse_marking(&policies, text).unwrap();
    stix::to_marking_definition(&policies, &label).unwrap()
}

/// An object of `kind` with `properties`, labelled `label` and with portions labelled.
pub fn labelled(
    kind: &str,
    uuid: &str,
    properties: Value,
    label: &str,
    portions: &[(&str, &str)],
) -> Vec<Value> {
    let object_marking = marking(label);
    let mut object = json!({
        "type": kind,
        "spec_version": "2.1",
        "id": format!("{kind}--{uuid}"),
        "created": "2026-11-01T08:00:00.000Z",
        "modified": "2026-11-01T08:00:00.000Z",
        "object_marking_refs": [object_marking["id"]],
    });
    for (k, v) in properties.as_object().unwrap() {
        object[k] = v.clone();
    }
    let mut out = vec![stix::label_extension_definition(), object_marking];
    let mut granular = Vec::new();
    for (selector, portion_label) in portions {
        let m = marking(portion_label);
        granular.push(json!({"marking_ref": m["id"], "selectors": [selector]}));
        out.push(m);
    }
    if !granular.is_empty() {
        object["granular_markings"] = Value::Array(granular);
    }
    out.push(object);
    out
}

pub const FRA_ONLY: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000001";
pub const REL_JPN: &str = "report--0b9d1c0e-0000-4000-8000-000000000002";
pub const PORTIONED: &str = "report--0b9d1c0e-0000-4000-8000-000000000003";
pub const HOSTILE: &str = "report--0b9d1c0e-0000-4000-8000-000000000004";
pub const LINK: &str = "relationship--0b9d1c0e-0000-4000-8000-000000000005";
pub const FRA_ONLY_NAME: &str = "Emitter FOXTROT-NINE national assessment";
pub const SECRET_PORTION: &str = "PORTION-ONLY-FOR-FRA-GBR overflight at 0715Z";

/// An indicator for FRA alone (with its label's definitions).
pub fn fra_only_indicator() -> Vec<Value> {
    labelled(
        "indicator",
        &FRA_ONLY[11..],
        json!({"name": FRA_ONLY_NAME, "pattern": "[ipv4-addr:value = '203.0.113.77']", "pattern_type": "stix", "valid_from": "2026-11-01T08:00:00Z"}),
        "NATO SECRET//REL TO FRA",
        &[],
    )
}

/// A report released to JPN (with its label's definitions).
pub fn rel_jpn_report() -> Vec<Value> {
    labelled(
        "report",
        &REL_JPN[8..],
        json!({"name": "Pacific liaison summary", "published": "2026-11-01T08:00:00Z", "object_refs": [REL_JPN]}),
        "NATO SECRET//REL TO FRA, JPN",
        &[],
    )
}

/// A FRA node with users fra (NATO SECRET), fra-low (NATO CONFIDENTIAL), gbr and jpn (NATO
/// SECRET) and: an indicator for FRA alone, a report REL TO FRA, JPN, a report REL TO FRA, GBR,
/// JPN whose description is NATO SECRET REL TO FRA, GBR, a hostile report everyone may see, and
/// a relationship JPN may see from the JPN report to the FRA-only indicator.
pub async fn populated() -> Site {
    let s = Site::start().await;
    s.user("fra", "FRA", "NATO SECRET").await;
    s.user("fra-low", "FRA", "NATO CONFIDENTIAL").await;
    s.user("gbr", "GBR", "NATO SECRET").await;
    s.user("jpn", "JPN", "NATO SECRET").await;
    let mut objects = fra_only_indicator();
    objects.extend(rel_jpn_report());
    objects.extend(labelled(
        "report",
        &PORTIONED[8..],
        json!({"name": "Baltic overflight", "description": SECRET_PORTION, "published": "2026-11-01T08:00:00Z", "object_refs": [PORTIONED]}),
        "NATO CONFIDENTIAL//REL TO FRA, GBR, JPN",
        &[("description", "NATO SECRET//REL TO FRA, GBR")],
    ));
    objects.extend(labelled(
        "report",
        &HOSTILE[8..],
        json!({
            "name": "<script>alert('name')</script>",
            "description": "\"><img src=x onerror=alert('description')> \u{202e}gnp.exe\u{202c} done",
            "published": "2026-11-01T08:00:00Z",
            "object_refs": [HOSTILE],
            "external_references": [{"source_name": "hostile", "url": "javascript:alert('url')"}],
        }),
        "NATO UNCLASSIFIED//REL TO FRA, GBR, JPN",
        &[],
    ));
    objects.extend(labelled(
        "relationship",
        &LINK[14..],
        json!({"relationship_type": "related-to", "source_ref": REL_JPN, "target_ref": FRA_ONLY}),
        "NATO SECRET//REL TO FRA, JPN",
        &[],
    ));
    s.publish("fra", objects).await;
    s
}

/// A browser for a console served elsewhere than by a [`Site`] (a federated node of a test).
pub fn browser_at(base: &str) -> Browser {
    Browser {
        base: base.to_owned(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookies: HashMap::new(),
    }
}
