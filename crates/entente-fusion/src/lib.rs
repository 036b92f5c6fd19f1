//! The fused multinational air picture: tracking, track-to-track fusion and accuracy metrics.
//!
//! National radars produce plots; a nation's tracker ([`tracker::Tracker`]) turns them into local
//! tracks; nations exchange [`model::NationalTrack`]s, each carrying its confidentiality label;
//! the fusion engine ([`fusion::Fuser`]) associates them across nations and fuses them by
//! covariance intersection ([`ci`]) into [`model::SystemTrack`]s, the Recognized Air Picture.
//! [`fusion::RecipientPicture`] builds the picture one nation may see from the contributions the
//! release decision lets it receive, and only from those. [`metrics`] scores a picture against the
//! truth with OSPA, GOSPA and SIAP, as Stone Soup computes them.
//!
//! [`replay`] runs recorded scenario and national track files through the tracker and the fuser;
//! [`synthetic`] makes seeded national pictures for timing the fuser.
//!
//! Design choices:
//! - Pure maths: no clock (every time is a parameter, in seconds) and no IO outside [`files`]
//!   and [`replay::write_fused`], which read and write the scenario and track files.
//! - States are `[x, vx, y, vy]` in a local east-north frame, the ordering Stone Soup uses, with
//!   fixed-size `nalgebra` matrices so that nothing allocates per target.
//! - Gating is done before assignment, and [`assignment::gnn`] solves each cluster of gated pairs
//!   separately; the cost per scan grows with the number of targets, not with its cube.
//! - Labels are opaque to fusion ([`model::Label`]): the only thing fusion asks of a label is the
//!   dominant label of several, which a system track carries.

pub mod assignment;
pub mod bench;
pub mod ci;
mod error;
pub mod files;
pub mod fusion;
pub mod geodesy;
pub mod kalman;
pub mod metrics;
pub mod model;
pub mod replay;
pub mod report;
pub mod stix;
pub mod synthetic;
pub mod tracker;

pub use error::Error;
