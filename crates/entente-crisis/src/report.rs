//! What the `entente crisis` commands show: a list of rooms, one room with the changes of its
//! participants since its day. Their JSON is the `/api/crisis/rooms` answers'.

use entente_types::report::{Report, Table, ToReport};
use entente_types::{Date, NationCode};
use serde::{Deserialize, Serialize};

use crate::Room;

/// A nation that joined or left the clause's parties after the room's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomChange {
    pub day: Date,
    pub nation: NationCode,
    pub joined: bool,
    pub reason: String,
}

/// One room and the changes of its participants since its day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDetail {
    pub room: Room,
    pub changes: Vec<RoomChange>,
}

/// The rooms a user may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<Room>,
}

fn heading(room: &Room) -> String {
    format!(
        "{} [{}]\n{} of the {} ({}), requested by {}, as of {}; opened by {} at {}\nlabel: {}\ncollection: {}",
        room.title,
        match room.status {
            crate::RoomStatus::Open => "open".to_owned(),
            crate::RoomStatus::Closed =>
                format!("closed {}", room.closed.as_deref().unwrap_or("")),
        },
        room.article,
        room.agreement_name,
        room.clause,
        join(&room.requested_by),
        room.as_of,
        room.opened_by,
        room.opened,
        room.label,
        room.collection,
    )
}

fn join(nations: &[NationCode]) -> String {
    nations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ToReport for Room {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(heading(self));
        report.text(format!("\"{}\"", self.clause_text.trim_matches('"')));
        let mut table = Table::new(["nation", "requesting", "why in the room"]);
        for p in &self.participants {
            table.add_row([
                p.nation.to_string(),
                if p.requesting {
                    "yes".into()
                } else {
                    String::new()
                },
                match &p.withheld {
                    Some(why) => format!("{}\nreceives nothing yet: {why}", p.reason),
                    None => p.reason.clone(),
                },
            ]);
        }
        report.text(format!(
            "{} participants as of {}:",
            self.participants.len(),
            self.as_of
        ));
        report.table(table);
        report
    }
}

impl ToReport for RoomDetail {
    fn report(&self) -> Report {
        let mut report = self.room.report();
        if self.changes.is_empty() {
            report.text("No participant joined or left since.".to_owned());
        } else {
            let mut table = Table::new(["day", "nation", "change", "why"]);
            for c in &self.changes {
                table.add_row([
                    c.day.to_string(),
                    c.nation.to_string(),
                    if c.joined { "joins" } else { "leaves" }.to_owned(),
                    c.reason.clone(),
                ]);
            }
            report.text("Since then:".to_owned());
            report.table(table);
        }
        report
    }
}

impl ToReport for RoomList {
    fn report(&self) -> Report {
        let mut report = Report::default();
        if self.rooms.is_empty() {
            report.text("No crisis room.".to_owned());
            return report;
        }
        let mut table = Table::new([
            "room",
            "title",
            "clause",
            "requested by",
            "as of",
            "participants",
            "status",
        ]);
        for r in &self.rooms {
            table.add_row([
                r.uuid().to_owned(),
                r.title.clone(),
                r.article.clone(),
                join(&r.requested_by),
                r.as_of.to_string(),
                r.participants.len().to_string(),
                match r.status {
                    crate::RoomStatus::Open => "open".to_owned(),
                    crate::RoomStatus::Closed => "closed".to_owned(),
                },
            ]);
        }
        report.table(table);
        report
    }
}
