//! Where a run sends its products: DIS PDUs to a UDP socket, a pcap capture and a CSV log, and
//! each nation's national tracks to its node as STIX objects in TAXII 2.1 envelopes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use entente_fusion::model::{Markings, NationalTrack};
use entente_types::NationCode;
use serde_json::{json, Value};

use crate::dis::{PcapWriter, PduLog, PduSink, UdpSink};
use crate::{Error, Outputs};

/// Why a node publisher cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    /// A token or CA file that cannot be read.
    #[error("cannot read the {what} file of {nation}: {}: {source}", file.display())]
    Read {
        nation: NationCode,
        what: &'static str,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CA file that holds no PEM certificate.
    #[error("--ca {nation}={}: not a PEM certificate: {message}", file.display())]
    Certificate {
        nation: NationCode,
        file: PathBuf,
        message: String,
    },
    /// The HTTP client cannot be built.
    #[error("the HTTP client of {nation}: {message}")]
    Client { nation: NationCode, message: String },
    /// A node, token or CA given for a nation in a way that does not fit the others.
    #[error("{flag} {nation}: {message}")]
    Mismatch {
        flag: &'static str,
        nation: NationCode,
        message: String,
    },
}

impl PublisherError {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> entente_types::ErrorCode {
        match self {
            PublisherError::Client { .. } => entente_types::ErrorCode::Internal,
            _ => entente_types::ErrorCode::InvalidInput,
        }
    }
}

/// Where each nation's national tracks go: its node's base URL, the file holding its token, and
/// the CA its TLS certificate chains to (none: plain HTTP).
#[derive(Debug, Clone, Default)]
pub struct NodeLinks {
    pub urls: std::collections::BTreeMap<NationCode, String>,
    pub token_files: std::collections::BTreeMap<NationCode, PathBuf>,
    pub cas: std::collections::BTreeMap<NationCode, PathBuf>,
}

impl NodeLinks {
    /// One publisher per node, to `collection`; every nation with a node takes part in
    /// `scenario` and has a token file, and every CA belongs to a node.
    pub fn connect(
        &self,
        collection: &str,
        scenario: &crate::Scenario,
    ) -> Result<Vec<NodePublisher>, PublisherError> {
        let mismatch = |flag, nation, message: String| PublisherError::Mismatch {
            flag,
            nation,
            message,
        };
        if let Some(&nation) = self.cas.keys().find(|n| !self.urls.contains_key(n)) {
            return Err(mismatch(
                "--ca",
                nation,
                format!("no --node {nation}=URL is given"),
            ));
        }
        let mut out = Vec::new();
        for (&nation, url) in &self.urls {
            if scenario.nation(nation).is_none() {
                let message = format!("{nation} does not take part in scenario {}", scenario.name);
                return Err(mismatch("--node", nation, message));
            }
            let file = self.token_files.get(&nation).ok_or_else(|| {
                mismatch(
                    "--node",
                    nation,
                    format!("needs --token-file {nation}=FILE"),
                )
            })?;
            let ca = self.cas.get(&nation).map(PathBuf::as_path);
            out.push(NodePublisher::connect(nation, url, collection, file, ca)?);
        }
        Ok(out)
    }
}

/// Why a post of national tracks to a node failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// A track that cannot be written as STIX, or an envelope that cannot be encoded.
    #[error("{0}")]
    Encode(String),
    /// The node could not be reached or did not answer.
    #[error("POST {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The node answered with an error status.
    #[error("POST {url}: {status}: {body}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
        body: String,
    },
    /// The node's answer is not a TAXII status resource.
    #[error("POST {url}: the status resource is not JSON: {source}")]
    NotJson {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    /// The node refused some of the objects.
    #[error("POST {url}: the node refused {count} object(s): {failures}")]
    Refused {
        url: String,
        count: u64,
        failures: serde_json::Value,
    },
}

/// Publishes a nation's tracks to its node: STIX national tracks in a TAXII 2.1 envelope.
#[derive(Debug)]
pub struct NodePublisher {
    pub nation: NationCode,
    /// The collection's objects endpoint.
    pub url: String,
    token: String,
    client: reqwest::blocking::Client,
    extension_sent: bool,
    /// Marking definitions already posted: each goes once, before the first track carrying it.
    markings_sent: BTreeSet<String>,
    /// National track states posted so far.
    pub posted: u64,
    /// Time of the last state posted per national track: a state is posted once, however many
    /// picture periods it stays the latest.
    last: HashMap<String, f64>,
}

impl NodePublisher {
    /// A publisher to `collection` of the node at `base_url`, authenticated by the token in
    /// `token_file`; with `ca_file`, the node is reached over TLS with that CA as the only root.
    pub fn connect(
        nation: NationCode,
        base_url: &str,
        collection: &str,
        token_file: &Path,
        ca_file: Option<&Path>,
    ) -> Result<NodePublisher, PublisherError> {
        let read = |what, file: &Path| {
            std::fs::read(file).map_err(|source| PublisherError::Read {
                nation,
                what,
                file: file.to_path_buf(),
                source,
            })
        };
        let token = String::from_utf8_lossy(&read("token", token_file)?)
            .trim()
            .to_owned();
        // ring is the process's one TLS provider (the binary installs it first; this keeps a
        // library caller that did not from failing when the client is built).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10));
        if let Some(file) = ca_file {
            // The node's CA is the only root: the national node is reached over TLS or not at all.
            let ca = reqwest::Certificate::from_pem(&read("CA", file)?).map_err(|e| {
                PublisherError::Certificate {
                    nation,
                    file: file.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
            client = client.tls_certs_only([ca]).https_only(true);
        }
        let client = client.build().map_err(|e| PublisherError::Client {
            nation,
            message: e.to_string(),
        })?;
        Ok(NodePublisher {
            nation,
            url: format!(
                "{}/api/collections/{collection}/objects/",
                base_url.trim_end_matches('/')
            ),
            token,
            client,
            extension_sent: false,
            markings_sent: BTreeSet::new(),
            posted: 0,
            last: HashMap::new(),
        })
    }

    /// Posts the states not posted yet (and, the first time, the extension definition), each
    /// after the marking definition of its label (from `tracks`, by id; once per label). With
    /// `frame`, the track objects name the origin (latitude, longitude) of their east-north frame.
    pub fn publish(
        &mut self,
        tracks: &[NationalTrack<Markings>],
        epoch: f64,
        frame: Option<(f64, f64)>,
        markings: &BTreeMap<String, Value>,
    ) -> Result<(), PostError> {
        let fresh: Vec<&NationalTrack<Markings>> = tracks
            .iter()
            .filter(|tr| self.last.get(&tr.source.local_id).is_none_or(|&t| tr.t > t))
            .collect();
        let mut objects = Vec::with_capacity(fresh.len() + 1);
        if !self.extension_sent {
            objects.push(entente_fusion::stix::extension_definition());
        }
        let mut new_markings = Vec::new();
        for tr in &fresh {
            for id in &tr.label.0 {
                if self.markings_sent.contains(id) || new_markings.contains(id) {
                    continue;
                }
                let definition = markings.get(id).ok_or_else(|| {
                    PostError::Encode(format!(
                        "national track {} is marked {id}, whose marking definition is unknown",
                        tr.source.local_id
                    ))
                })?;
                objects.push(definition.clone());
                new_markings.push(id.clone());
            }
        }
        for tr in &fresh {
            let object = match frame {
                Some((lat, lon)) => {
                    entente_fusion::stix::national_track_in_frame(tr, epoch, lat, lon)
                }
                None => entente_fusion::stix::national_track(tr, epoch),
            };
            objects.push(object.map_err(|e| PostError::Encode(e.to_string()))?);
        }
        if objects.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&json!({ "objects": objects }))
            .map_err(|e| PostError::Encode(e.to_string()))?;
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("Content-Type", "application/taxii+json;version=2.1")
            .header("Accept", "application/taxii+json;version=2.1")
            .body(body)
            .send()
            .map_err(|source| PostError::Transport {
                url: self.url.clone(),
                source,
            })?;
        let status = response.status();
        let text = response.text().unwrap_or_default();
        if !status.is_success() {
            return Err(PostError::Status {
                url: self.url.clone(),
                status,
                body: text,
            });
        }
        let resource: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| PostError::NotJson {
                url: self.url.clone(),
                source,
            })?;
        let failures = resource["failure_count"].as_u64().unwrap_or(0);
        if failures > 0 {
            return Err(PostError::Refused {
                url: self.url.clone(),
                count: failures,
                failures: resource["failures"].clone(),
            });
        }
        self.extension_sent = true;
        self.markings_sent.extend(new_markings);
        self.posted += fresh.len() as u64;
        for tr in fresh {
            self.last.insert(tr.source.local_id.clone(), tr.t);
        }
        Ok(())
    }
}

/// The products of a run: any of a UDP socket, a pcap capture, a PDU log, and national nodes.
#[derive(Default)]
pub struct RunOutputs {
    pub udp: Option<UdpSink>,
    pub pcap: Option<PcapWriter>,
    pub log: Option<PduLog>,
    pub nodes: Vec<NodePublisher>,
    /// The epoch national tracks are stamped from (seconds since 1970).
    pub epoch: f64,
    /// Origin (latitude, longitude) of the east-north frame the tracks are in, written into the
    /// track objects posted to nodes.
    pub frame: Option<(f64, f64)>,
    /// Marking definitions of the tracks' labels, by id (posted before the tracks).
    pub markings: BTreeMap<String, Value>,
}

impl RunOutputs {
    /// The outputs of a run into folder `out`: DIS to `dis` (address, whether to bundle PDUs),
    /// with `capture` the PDUs also into `dis.pcap` and `dis.csv`, and national tracks to `nodes`.
    pub fn open(
        out: &Path,
        epoch: f64,
        dis: Option<(std::net::SocketAddr, bool)>,
        capture: bool,
        nodes: Vec<NodePublisher>,
    ) -> Result<RunOutputs, Error> {
        let port = dis.map_or(crate::dis::DEFAULT_PORT, |(a, _)| a.port());
        let udp = match dis {
            Some((a, true)) => Some(UdpSink::bundling(a)?),
            Some((a, false)) => Some(UdpSink::new(a)?),
            None => None,
        };
        let (pcap, log) = if capture {
            (
                Some(PcapWriter::create(&out.join("dis.pcap"), epoch, port)?),
                Some(PduLog::create(&out.join("dis.csv"))?),
            )
        } else {
            (None, None)
        };
        Ok(RunOutputs {
            udp,
            pcap,
            log,
            nodes,
            epoch,
            frame: None,
            markings: BTreeMap::new(),
        })
    }

    /// What the track objects posted to nodes need beside the tracks: the scenario's frame
    /// origin and the marking definitions of the sensors' labels.
    pub fn with_tracks_of(
        mut self,
        scenario: &crate::Scenario,
        releases: &crate::Releases,
    ) -> RunOutputs {
        self.frame = Some((scenario.area.origin.lat, scenario.area.origin.lon));
        self.markings = releases.marking_definitions();
        self
    }

    /// Closes the capture and the log, writing what they still buffer.
    pub fn finish(&mut self) -> Result<(), Error> {
        if let Some(p) = self.pcap.take() {
            p.finish()?;
        }
        if let Some(l) = self.log.take() {
            l.finish()?;
        }
        Ok(())
    }
}

impl Outputs for RunOutputs {
    fn pdu(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error> {
        if let Some(u) = &mut self.udp {
            u.send(t, pdu)?;
        }
        if let Some(p) = &mut self.pcap {
            p.send(t, pdu)?;
        }
        if let Some(l) = &mut self.log {
            l.send(t, pdu)?;
        }
        Ok(())
    }

    fn national_tracks(
        &mut self,
        _t: f64,
        nation: NationCode,
        tracks: &[NationalTrack<Markings>],
    ) -> Result<(), Error> {
        let epoch = self.epoch;
        for node in self.nodes.iter_mut().filter(|n| n.nation == nation) {
            node.publish(tracks, epoch, self.frame, &self.markings)
                .map_err(|e| Error::Publish {
                    what: format!("national tracks of {nation}"),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    fn end_step(&mut self) -> Result<(), Error> {
        match &mut self.udp {
            Some(u) => u.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fra() -> NationCode {
        "FRA".parse().unwrap()
    }

    #[test]
    fn a_publisher_reads_its_token_and_names_the_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("fra.token");
        std::fs::write(&token, "secret\n").unwrap();
        let p =
            NodePublisher::connect(fra(), "http://127.0.0.1:1/", "intel", &token, None).unwrap();
        assert_eq!(p.url, "http://127.0.0.1:1/api/collections/intel/objects/");
        assert_eq!(p.token, "secret");
        assert_eq!(p.posted, 0);
    }

    #[test]
    fn missing_files_and_bad_certificates_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.token");
        let err = NodePublisher::connect(fra(), "http://x", "c", &missing, None).unwrap_err();
        assert!(err.to_string().contains("token file of FRA"), "{err}");
        let token = dir.path().join("t");
        std::fs::write(&token, "t").unwrap();
        let ca = dir.path().join("none.pem");
        let err = NodePublisher::connect(fra(), "https://x", "c", &token, Some(&ca)).unwrap_err();
        assert!(err.to_string().contains("CA file of FRA"), "{err}");
    }

    #[test]
    fn nothing_new_posts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "t").unwrap();
        let mut p = NodePublisher::connect(fra(), "http://127.0.0.1:1", "c", &token, None).unwrap();
        p.extension_sent = true;
        assert!(p.publish(&[], 0.0, None, &BTreeMap::new()).is_ok());
        assert_eq!(p.posted, 0);
    }

    /// A node on loopback that answers `posts` TAXII posts with success and hands back their
    /// bodies.
    fn node(posts: usize) -> (String, std::thread::JoinHandle<Vec<serde_json::Value>>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for _ in 0..posts {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies.push(serde_json::from_slice(&body).unwrap());
                let answer =
                    r#"{"id":"s","status":"complete","success_count":1,"failure_count":0}"#;
                write!(
                    reader.get_mut(),
                    "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .unwrap();
            }
            bodies
        });
        (url, handle)
    }

    fn track(local_id: &str, t: f64, marking: &str) -> NationalTrack<Markings> {
        NationalTrack {
            source: entente_fusion::model::TrackRef {
                nation: fra(),
                local_id: local_id.into(),
            },
            sensor: "FRA-radars".into(),
            t,
            estimate: entente_fusion::kalman::Gaussian {
                x: Default::default(),
                p: entente_fusion::kalman::StateCovariance::identity(),
            },
            identity: entente_fusion::model::Identity::Unknown,
            reply: Default::default(),
            label: Markings::of([marking]),
        }
    }

    #[test]
    fn tracks_go_after_their_label_once_and_name_their_frame() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "t").unwrap();
        let (url, node) = node(2);
        let mut p = NodePublisher::connect(fra(), &url, "intel", &token, None).unwrap();
        let id = "marking-definition--00000000-0000-4000-8000-000000000001";
        let markings = BTreeMap::from([(
            id.to_owned(),
            json!({"type": "marking-definition", "id": id}),
        )]);
        let frame = Some((57.0, 23.0));
        p.publish(&[track("FRA-1", 1.0, id)], 0.0, frame, &markings)
            .unwrap();
        p.publish(
            &[track("FRA-1", 2.0, id), track("FRA-2", 2.0, id)],
            0.0,
            frame,
            &markings,
        )
        .unwrap();
        let bodies = node.join().unwrap();
        let kinds = |b: &serde_json::Value| -> Vec<String> {
            b["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["type"].as_str().unwrap().to_owned())
                .collect()
        };
        // The extension and the marking definition first, once; then tracks only.
        assert_eq!(
            kinds(&bodies[0]),
            [
                "extension-definition",
                "marking-definition",
                "x-entente-national-track"
            ]
        );
        assert_eq!(
            kinds(&bodies[1]),
            ["x-entente-national-track", "x-entente-national-track"]
        );
        for b in &bodies {
            for o in b["objects"].as_array().unwrap() {
                if o["type"] == "x-entente-national-track" {
                    assert_eq!(o["object_marking_refs"], json!([id]));
                    assert_eq!(entente_fusion::stix::frame_origin(o), Some((57.0, 23.0)));
                }
            }
        }
        assert_eq!(p.posted, 3);
        // A track whose label has no marking definition is not posted.
        let err = p
            .publish(
                &[track("FRA-3", 3.0, "marking-definition--unknown")],
                0.0,
                frame,
                &markings,
            )
            .unwrap_err();
        assert!(err.to_string().contains("FRA-3"), "{err}");
    }

    #[test]
    fn outputs_without_sinks_accept_everything() {
        let mut outputs = RunOutputs::default();
        outputs.pdu(0.0, &[1, 2, 3]).unwrap();
        outputs.national_tracks(0.0, fra(), &[]).unwrap();
        outputs.end_step().unwrap();
        outputs.finish().unwrap();
    }
}
