//! How the demonstration shows what it does as it goes: text and tables in order, and the
//! delivery of the published objects to each nation. The library decides what to show; the
//! caller (the `entente` binary) decides how (stdout, table style, progress bars).

use std::io;

use entente_types::NationCode;

/// A table to show (the same table type every library's text report uses).
pub use entente_types::report::Table;

/// One step of the delivery of the published objects, polled until every nation holds what
/// the release policy lets it receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Waiting starts: each receiving nation with the number of objects it should receive.
    Started(&'a [(NationCode, usize)]),
    /// A nation holds `held` of the `wanted` objects from other nations.
    Held {
        nation: NationCode,
        held: usize,
        wanted: usize,
    },
    /// A nation holds an object the release policy does not let it receive (the demo fails).
    Unexpected(NationCode),
    /// Every nation holds exactly what it should.
    Complete,
    /// The time allowed ran out.
    TimedOut,
}

/// One step of the replayed consultation: its room opened, then reaching the participants'
/// nodes and no other.
#[derive(Debug, Clone, Copy)]
pub enum Crisis<'a> {
    /// The room opened at `host`'s node for the recorded `invocation`: who is in it and why, and
    /// the changes of its participants since its day.
    Opened {
        host: NationCode,
        invocation: &'a str,
        detail: &'a entente_crisis::RoomDetail,
    },
    /// A participant's node holds the room, `after` it was opened.
    Reached {
        nation: NationCode,
        after: std::time::Duration,
    },
    /// A participant's node did not hold the room in time (the demo fails).
    Missing { nation: NationCode },
    /// A nation outside the room: whether its node holds the room (the demo fails if it does).
    Outside { nation: NationCode, holds: bool },
}

/// Where the demonstration's output goes, in order.
pub trait Progress {
    /// Text of one or more lines, shown as a line.
    fn text(&mut self, text: &str) -> io::Result<()>;
    /// A table.
    fn table(&mut self, table: &Table) -> io::Result<()>;
    /// The delivery of the published objects.
    fn delivery(&mut self, step: Delivery<'_>) -> io::Result<()>;
    /// The replayed consultation.
    fn crisis(&mut self, step: Crisis<'_>) -> io::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_keeps_its_header_and_rows_in_order() {
        let mut table = Table::new(["from", "to"]);
        table.add_row(["FRA", "DEU"]);
        table.add_row([String::from("USA"), String::from("JPN")]);
        assert_eq!(table.header, ["from", "to"]);
        assert_eq!(table.rows, [["FRA", "DEU"], ["USA", "JPN"]]);
    }
}
