//! Results shown as text: lines and tables, in order. A library says what a result shows; the
//! binary decides how (table style, width), so every command's tables look alike.

/// A table: a header row and rows of cells (a cell may hold several lines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn add_row<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }
}

/// One part of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text of one or more lines, shown as a line.
    Text(String),
    Table(Table),
}

/// What a result shows as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub blocks: Vec<Block>,
}

impl Report {
    pub fn text(&mut self, text: impl Into<String>) -> &mut Report {
        self.blocks.push(Block::Text(text.into()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Report {
        self.blocks.push(Block::Table(table));
        self
    }
}

/// A result with a text form (its JSON form is its `Serialize`).
pub trait ToReport {
    fn report(&self) -> Report;
}

/// `v` with `f`, or an em dash when there is no value.
pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("—".to_owned(), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_its_blocks_in_order() {
        let mut table = Table::new(["from", "to"]);
        table.add_row(["FRA", "DEU"]);
        let mut report = Report::default();
        report.text("title").table(table.clone()).text("end");
        assert_eq!(
            report.blocks,
            [
                Block::Text("title".into()),
                Block::Table(table),
                Block::Text("end".into())
            ]
        );
        assert_eq!(opt(None, |v| v.to_string()), "—");
    }
}
