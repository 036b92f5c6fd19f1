//! DIS (IEEE 1278.1-2012, protocol version 7) Entity State PDUs, sent over UDP and written to
//! pcap files.
//!
//! The encoder is written here rather than taken from the `dis-rs` crate (0.14): that crate
//! needs Rust 1.91 (the workspace promises 1.89, `rust-version` in the root `Cargo.toml`), and its build script generates the SISO-REF-010
//! enumerations from a 6 MB XML file on every clean build, a cost our two-core CI pays for three
//! fixed layouts. Writing into a caller's fixed 144-byte buffer also keeps the 100,000 PDUs per
//! second of the load target free of allocation. The layout is checked byte by byte in the unit
//! tests and against two independent decoders (PyPI `opendis`, Wireshark's DIS dissector through
//! `tshark`) in the integration tests.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

use entente_fusion::geodesy::Ecef;
use entente_types::NationCode;

use crate::error::Error;
use crate::kinematics::State;

/// Length of an Entity State PDU without variable parameters.
pub const ESPDU_LEN: usize = 144;
/// DIS protocol version 7 (IEEE 1278.1-2012).
pub const PROTOCOL_VERSION: u8 = 7;
/// PDU type of the Entity State PDU.
pub const PDU_TYPE_ENTITY_STATE: u8 = 1;
/// Protocol family "entity information / interaction".
pub const FAMILY_ENTITY_INFORMATION: u8 = 1;
/// Dead-reckoning algorithm 2, DRM(F, P, W): constant velocity, world coordinates.
pub const DRM_FPW: u8 = 2;
/// The default DIS port.
pub const DEFAULT_PORT: u16 = 3000;

/// SISO-REF-010 country code of a nation (0, "other", for nations not listed here).
pub fn country_code(nation: Option<NationCode>) -> u16 {
    let Some(n) = nation else { return 0 };
    match n.as_str() {
        "BEL" => 21,
        "CAN" => 39,
        "DNK" => 57,
        "FIN" => 70,
        "FRA" => 71,
        "DEU" => 78,
        "HUN" => 97,
        "ITA" => 106,
        "NLD" => 153,
        "NOR" => 163,
        "POL" => 175,
        "PRT" => 176,
        "ROU" => 180,
        "ESP" => 198,
        "SWE" => 205,
        "TUR" => 218,
        "RUS" => 222,
        "GBR" => 224,
        "USA" => 225,
        "EST" => 250,
        "LVA" => 254,
        "LTU" => 255,
        "CZE" => 267,
        _ => 0,
    }
}

/// What identifies an entity and never changes during a run.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityHeader {
    /// Site, application, entity numbers.
    pub id: (u16, u16, u16),
    /// Force (0 other, 1 friendly, 2 opposing, 3 neutral).
    pub force: u8,
    /// Kind, domain, country, category, subcategory, specific, extra.
    pub entity_type: (u8, u8, u16, u8, u8, u8, u8),
    /// Marking text, ASCII, at most 11 characters (longer text is cut).
    pub marking: String,
}

/// Euler angles (ψ, θ, φ) of the body frame relative to ECEF, as DIS carries them, for an
/// aircraft with the given heading, pitch and bank at latitude `lat` and longitude `lon`
/// (all radians).
///
/// The body-to-ECEF rotation is NED-to-ECEF (from latitude and longitude) times body-to-NED
/// (heading, pitch, bank in the 3-2-1 order); DIS angles are the same 3-2-1 decomposition of
/// that product.
pub fn orientation(lat: f64, lon: f64, heading: f64, pitch: f64, bank: f64) -> [f64; 3] {
    let r = body_to_ecef(lat, lon, heading, pitch, bank);
    let theta = (-r[2][0]).clamp(-1.0, 1.0).asin();
    let psi = r[1][0].atan2(r[0][0]);
    let phi = r[2][1].atan2(r[2][2]);
    [psi, theta, phi]
}

/// The body-to-ECEF rotation matrix (rows are ECEF axes, columns body axes).
pub fn body_to_ecef(lat: f64, lon: f64, heading: f64, pitch: f64, bank: f64) -> [[f64; 3]; 3] {
    let ned = ned_to_ecef(lat, lon);
    let b = euler_321(heading, pitch, bank);
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| ned[i][k] * b[k][j]).sum();
        }
    }
    r
}

/// Columns: north, east and down unit vectors in ECEF.
fn ned_to_ecef(lat: f64, lon: f64) -> [[f64; 3]; 3] {
    let (sl, cl) = lat.sin_cos();
    let (so, co) = lon.sin_cos();
    [
        [-sl * co, -so, -cl * co],
        [-sl * so, co, -cl * so],
        [cl, 0.0, -sl],
    ]
}

/// Rz(ψ) Ry(θ) Rx(φ).
pub fn euler_321(psi: f64, theta: f64, phi: f64) -> [[f64; 3]; 3] {
    let (sp, cp) = psi.sin_cos();
    let (st, ct) = theta.sin_cos();
    let (sf, cf) = phi.sin_cos();
    [
        [ct * cp, sf * st * cp - cf * sp, cf * st * cp + sf * sp],
        [ct * sp, sf * st * sp + cf * cp, cf * st * sp - sf * cp],
        [-st, sf * ct, cf * ct],
    ]
}

/// Velocity in ECEF, m/s, of an aircraft in state `s`.
pub fn velocity_ecef(s: &State) -> [f64; 3] {
    let ned = ned_to_ecef(s.position.lat.to_radians(), s.position.lon.to_radians());
    let v = s.velocity_ned();
    [0, 1, 2].map(|i| (0..3).map(|k| ned[i][k] * v[k]).sum())
}

/// DIS timestamp of `seconds` (any origin): units of 3600 / 2³¹ s past the hour in the upper 31
/// bits; the low bit marks an absolute (UTC-synchronised) time.
pub fn timestamp(seconds: f64, absolute: bool) -> u32 {
    let past_hour = seconds.rem_euclid(3600.0);
    let units = ((past_hour / 3600.0) * 2_147_483_648.0) as u64;
    let units = units.min(0x7fff_ffff) as u32;
    (units << 1) | u32::from(absolute)
}

/// One Entity State PDU's dynamic part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kinematics {
    /// Position, ECEF metres.
    pub location: Ecef,
    /// Velocity, ECEF m/s.
    pub velocity: [f64; 3],
    /// ψ, θ, φ, radians.
    pub orientation: [f64; 3],
}

impl Kinematics {
    /// The DIS view of a kinematic state.
    pub fn of(s: &State) -> Kinematics {
        let (lat, lon) = (s.position.lat.to_radians(), s.position.lon.to_radians());
        Kinematics {
            location: s.ecef(),
            velocity: velocity_ecef(s),
            orientation: orientation(lat, lon, s.heading, s.pitch(), s.bank),
        }
    }
}

/// Writes an Entity State PDU into `buf`.
pub fn encode_entity_state(
    buf: &mut [u8; ESPDU_LEN],
    exercise: u8,
    time: u32,
    header: &EntityHeader,
    k: &Kinematics,
) {
    buf.fill(0);
    buf[0] = PROTOCOL_VERSION;
    buf[1] = exercise;
    buf[2] = PDU_TYPE_ENTITY_STATE;
    buf[3] = FAMILY_ENTITY_INFORMATION;
    buf[4..8].copy_from_slice(&time.to_be_bytes());
    buf[8..10].copy_from_slice(&(ESPDU_LEN as u16).to_be_bytes());
    // 10: PDU status, 11: padding, both zero.
    buf[12..14].copy_from_slice(&header.id.0.to_be_bytes());
    buf[14..16].copy_from_slice(&header.id.1.to_be_bytes());
    buf[16..18].copy_from_slice(&header.id.2.to_be_bytes());
    buf[18] = header.force;
    buf[19] = 0; // no variable parameters
    let t = header.entity_type;
    let mut ty = [0u8; 8];
    ty[0] = t.0;
    ty[1] = t.1;
    ty[2..4].copy_from_slice(&t.2.to_be_bytes());
    ty[4] = t.3;
    ty[5] = t.4;
    ty[6] = t.5;
    ty[7] = t.6;
    buf[20..28].copy_from_slice(&ty);
    buf[28..36].copy_from_slice(&ty); // alternative entity type: the same
    for (i, v) in k.velocity.iter().enumerate() {
        buf[36 + 4 * i..40 + 4 * i].copy_from_slice(&(*v as f32).to_be_bytes());
    }
    let loc = [k.location.x, k.location.y, k.location.z];
    for (i, v) in loc.iter().enumerate() {
        buf[48 + 8 * i..56 + 8 * i].copy_from_slice(&v.to_be_bytes());
    }
    for (i, v) in k.orientation.iter().enumerate() {
        buf[72 + 4 * i..76 + 4 * i].copy_from_slice(&(*v as f32).to_be_bytes());
    }
    // 84: appearance, zero (no damage, no lights, no smoke).
    buf[88] = DRM_FPW;
    // 89..104: other dead-reckoning parameters; 104..116 acceleration, 116..128 angular
    // velocity: zero for constant velocity.
    buf[128] = 1; // ASCII
    let marking = header.marking.as_bytes();
    let n = marking.len().min(11);
    buf[129..129 + n].copy_from_slice(&marking[..n]);
    // 140: capabilities, zero.
}

/// Where PDUs go.
pub trait PduSink {
    /// Sends one PDU produced at simulation time `t` (seconds).
    fn send(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error>;

    /// Sends whatever is held back (bundles); called at the end of each step.
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Largest datagram a bundle fills: under a 1,500-byte Ethernet MTU with IPv4 and UDP headers,
/// so that bundles are never fragmented.
pub const MAX_BUNDLE: usize = 1_400;

/// Sends PDUs over UDP: each in its own datagram (what decoders that read one PDU per datagram,
/// as `opendis` does, need), or bundled, several whole PDUs per datagram as IEEE 1278.1-2012
/// allows, which divides the system calls of a large exercise by nine.
#[derive(Debug)]
pub struct UdpSink {
    socket: UdpSocket,
    to: SocketAddr,
    sent: u64,
    datagrams: u64,
    bundle: Option<Vec<u8>>,
}

impl UdpSink {
    /// A sink sending one PDU per datagram to `to`.
    pub fn new(to: SocketAddr) -> Result<UdpSink, Error> {
        UdpSink::open(to, false)
    }

    /// A sink bundling PDUs into datagrams of at most [`MAX_BUNDLE`] bytes.
    pub fn bundling(to: SocketAddr) -> Result<UdpSink, Error> {
        UdpSink::open(to, true)
    }

    /// Datagrams sent so far.
    pub fn datagrams(&self) -> u64 {
        self.datagrams
    }

    fn transmit(&mut self, bytes: &[u8]) -> Result<(), Error> {
        match self.socket.send_to(bytes, self.to) {
            Ok(_) => {
                self.datagrams += 1;
                Ok(())
            }
            // Nobody listening on loopback yet: DIS is fire and forget.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
            Err(e) => Err(Error::io(PathBuf::from(self.to.to_string()), e)),
        }
    }

    fn open(to: SocketAddr, bundle: bool) -> Result<UdpSink, Error> {
        let local: SocketAddr = if to.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let io = |e| Error::io(PathBuf::from(to.to_string()), e);
        let socket = UdpSocket::bind(local).map_err(io)?;
        socket.set_broadcast(true).map_err(io)?;
        Ok(UdpSink {
            socket,
            to,
            sent: 0,
            datagrams: 0,
            bundle: bundle.then(|| Vec::with_capacity(MAX_BUNDLE)),
        })
    }

    /// PDUs sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

impl PduSink for UdpSink {
    fn send(&mut self, _t: f64, pdu: &[u8]) -> Result<(), Error> {
        self.sent += 1;
        let Some(mut bundle) = self.bundle.take() else {
            return self.transmit(pdu);
        };
        let mut result = Ok(());
        if !bundle.is_empty() && bundle.len() + pdu.len() > MAX_BUNDLE {
            result = self.transmit(&bundle);
            bundle.clear();
        }
        bundle.extend_from_slice(pdu);
        self.bundle = Some(bundle);
        result
    }

    fn flush(&mut self) -> Result<(), Error> {
        let Some(mut bundle) = self.bundle.take() else {
            return Ok(());
        };
        let result = if bundle.is_empty() {
            Ok(())
        } else {
            self.transmit(&bundle)
        };
        bundle.clear();
        self.bundle = Some(bundle);
        result
    }
}

/// Writes PDUs to a classic pcap file as Ethernet / IPv4 / UDP frames, one PDU per frame, so
/// that Wireshark and tshark read them as captured DIS traffic.
#[derive(Debug)]
pub struct PcapWriter {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    epoch: f64,
    dst_port: u16,
    frame: Vec<u8>,
    ip_id: u16,
}

impl PcapWriter {
    /// Creates `path`; frame times are `epoch + t`, addressed to 127.0.0.1:`dst_port`.
    pub fn create(path: &Path, epoch: f64, dst_port: u16) -> Result<PcapWriter, Error> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&65_535u32.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        out.write_all(&header).map_err(|e| Error::io(path, e))?;
        Ok(PcapWriter {
            path: path.to_path_buf(),
            out,
            epoch,
            dst_port,
            frame: Vec::with_capacity(256),
            ip_id: 0,
        })
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl PduSink for PcapWriter {
    fn send(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error> {
        let f = &mut self.frame;
        f.clear();
        // Ethernet: locally administered addresses, IPv4.
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
        let ip_len = (20 + 8 + pdu.len()) as u16;
        let ip_start = f.len();
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&ip_len.to_be_bytes());
        f.extend_from_slice(&self.ip_id.to_be_bytes());
        self.ip_id = self.ip_id.wrapping_add(1);
        f.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]); // DF, TTL 64, UDP, checksum later
        f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        let sum = ipv4_checksum(&f[ip_start..ip_start + 20]);
        f[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&self.dst_port.to_be_bytes()); // source port: the DIS port too
        f.extend_from_slice(&self.dst_port.to_be_bytes());
        f.extend_from_slice(&((8 + pdu.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
        f.extend_from_slice(pdu);
        let when = self.epoch + t;
        let secs = when.floor();
        let micros = ((when - secs) * 1e6).round().min(999_999.0) as u32;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&(secs as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&micros.to_le_bytes());
        rec[8..12].copy_from_slice(&(f.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(f.len() as u32).to_le_bytes());
        let io = |e| Error::io(&self.path, e);
        self.out.write_all(&rec).map_err(io)?;
        self.out.write_all(&self.frame).map_err(io)
    }
}

/// A line of the PDU log (`dis.csv`): what we put in each PDU, for comparison with decoders.
#[derive(Debug)]
pub struct PduLog {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    seq: u64,
}

impl PduLog {
    /// Creates the log with its header line.
    pub fn create(path: &Path) -> Result<PduLog, Error> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(
            out,
            "seq,t,site,application,entity,force,x,y,z,vx,vy,vz,psi,theta,phi,marking"
        )
        .map_err(|e| Error::io(path, e))?;
        Ok(PduLog {
            path: path.to_path_buf(),
            out,
            seq: 0,
        })
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }
}

impl PduSink for PduLog {
    fn send(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error> {
        let Some(d) = decode_entity_state(pdu) else {
            return Ok(());
        };
        let marking: String = d.marking.chars().filter(|c| *c != ',').collect();
        writeln!(
            self.out,
            "{},{t:.3},{},{},{},{},{:.3},{:.3},{:.3},{:.4},{:.4},{:.4},{:.6},{:.6},{:.6},{marking}",
            self.seq,
            d.id.0,
            d.id.1,
            d.id.2,
            d.force,
            d.location[0],
            d.location[1],
            d.location[2],
            d.velocity[0],
            d.velocity[1],
            d.velocity[2],
            d.orientation[0],
            d.orientation[1],
            d.orientation[2],
        )
        .map_err(|e| Error::io(&self.path, e))?;
        self.seq += 1;
        Ok(())
    }
}

/// The fields of an Entity State PDU, read back (for logs and tests; not an input parser).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedEntityState {
    /// Site, application, entity.
    pub id: (u16, u16, u16),
    /// Force.
    pub force: u8,
    /// ECEF metres.
    pub location: [f64; 3],
    /// ECEF m/s.
    pub velocity: [f32; 3],
    /// ψ, θ, φ.
    pub orientation: [f32; 3],
    /// Marking text.
    pub marking: String,
    /// Timestamp field.
    pub timestamp: u32,
}

/// Reads back an Entity State PDU written by [`encode_entity_state`]; `None` for anything else.
pub fn decode_entity_state(pdu: &[u8]) -> Option<DecodedEntityState> {
    if pdu.len() < ESPDU_LEN || pdu[2] != PDU_TYPE_ENTITY_STATE {
        return None;
    }
    let u16_at = |i: usize| u16::from_be_bytes([pdu[i], pdu[i + 1]]);
    let f32_at = |i: usize| f32::from_be_bytes([pdu[i], pdu[i + 1], pdu[i + 2], pdu[i + 3]]);
    let f64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&pdu[i..i + 8]);
        f64::from_be_bytes(b)
    };
    let marking = pdu[129..140]
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    Some(DecodedEntityState {
        id: (u16_at(12), u16_at(14), u16_at(16)),
        force: pdu[18],
        location: [f64_at(48), f64_at(56), f64_at(64)],
        velocity: [f32_at(36), f32_at(40), f32_at(44)],
        orientation: [f32_at(72), f32_at(76), f32_at(80)],
        marking,
        timestamp: u32::from_be_bytes([pdu[4], pdu[5], pdu[6], pdu[7]]),
    })
}

/// Dead-reckoning bookkeeping of one entity: when the last PDU went out and what it said.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadReckoning {
    last: Option<(f64, [f64; 3], [f64; 3])>,
}

impl DeadReckoning {
    /// Whether a PDU is due at `t`: never sent, the heartbeat elapsed, or the receivers'
    /// constant-velocity extrapolation (DRM FPW) is off by more than `threshold` metres.
    pub fn due(&self, t: f64, k: &Kinematics, heartbeat: f64, threshold: f64) -> bool {
        let Some((t0, p0, v0)) = self.last else {
            return true;
        };
        let dt = t - t0;
        if dt >= heartbeat - 1e-9 {
            return true;
        }
        let p = [k.location.x, k.location.y, k.location.z];
        let err2: f64 = (0..3).map(|i| (p0[i] + v0[i] * dt - p[i]).powi(2)).sum();
        err2 > threshold * threshold
    }

    /// Records that a PDU went out at `t` with `k`.
    pub fn sent(&mut self, t: f64, k: &Kinematics) {
        self.last = Some((
            t,
            [k.location.x, k.location.y, k.location.z],
            [
                f64::from(k.velocity[0] as f32),
                f64::from(k.velocity[1] as f32),
                f64::from(k.velocity[2] as f32),
            ],
        ));
    }
}

#[cfg(test)]
mod tests;
