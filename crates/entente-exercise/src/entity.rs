//! One simulated aircraft ([`Entity`]) and what it is in the scenario ([`Role`]): the state that the
//! simulation steps, the controller commands and DIS publishes.

use entente_fusion::geodesy::Geodetic;

use crate::dis::{DeadReckoning, EntityHeader};
use crate::kinematics::{Command, Limits, State};
#[cfg(doc)]
use crate::scenario::Scenario;

/// What an aircraft is in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Traffic number `index`, flying towards waypoint `leg`.
    Traffic {
        /// Index into [`Scenario::traffic`].
        index: usize,
        /// Next waypoint.
        leg: usize,
    },
    /// Aircraft `slot` (0 lead, 1 wingman) of flight `flight`.
    Fighter {
        /// Index into [`Scenario::flights`].
        flight: usize,
        /// 0 lead, 1 wingman.
        slot: u8,
    },
}

/// One simulated aircraft.
#[derive(Debug, Clone)]
pub struct Entity {
    /// DIS identity, type and marking.
    pub header: EntityHeader,
    /// Kinematic state.
    pub state: State,
    /// Performance limits.
    pub limits: Limits,
    /// Flying (appeared and not yet landed or gone).
    pub active: bool,
    /// Transponder on, answering air traffic control.
    pub transponder: bool,
    /// Traffic or fighter.
    pub role: Role,
    /// Time it entered the exercise area.
    pub entered: Option<f64>,
    /// Has taken off or appeared (an aircraft that landed or left does not come back).
    pub appeared: bool,
    pub(crate) command: Command,
    pub(crate) dr: DeadReckoning,
}

impl Entity {
    /// Position as geodetic coordinates.
    pub fn position(&self) -> Geodetic {
        self.state.position
    }

    pub(crate) fn set_command(&mut self, command: Command) {
        self.command = command;
    }
}
