//! What `-o/--output` and `--no-header` choose: how commands print their rows on stdout.
//!
//! - `table` (the default): columns padded for people, the header row in capitals.
//! - `json`: each command's JSON document (`--json` is the same as `-o json`).
//! - `csv`: RFC 4180 through the `csv` crate: a cell holding a comma, a quote or a line break is
//!   quoted, quotes doubled. The header row holds the columns' machine names (`bundle_sid`...).
//! - `tsv`: one line per row, cells separated by a tab; in a cell a backslash is written `\\`, a
//!   tab `\t`, a line feed `\n` and a carriage return `\r` (the escapes of PostgreSQL's and
//!   MySQL's text format), so that every row is one line and every tab separates cells.
//!
//! `--no-header` leaves out the header row (in a table, of every table printed).

use serde_json::{Map, Value};

use crate::table;

/// An output format (`-o/--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// The command's JSON document.
    Json,
    /// Comma-separated values (RFC 4180 quoting).
    Csv,
    /// Tab-separated values (tabs, line breaks and backslashes in a cell escaped).
    Tsv,
}

impl Format {
    /// The format's name, as `-o` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
        }
    }
}

/// A column: its title in a table and its machine name (CSV and TSV headers, JSON keys).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The table's header cell, e.g. `VALID UNTIL`.
    pub title: &'static str,
    /// The CSV/TSV header cell, e.g. `valid_until`.
    pub name: &'static str,
}

/// A column titled `title` in a table and named `name` in CSV and TSV.
pub const fn column(title: &'static str, name: &'static str) -> Column {
    Column { title, name }
}

/// The output settings of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// Whether rows come under a header row (`--no-header` turns it off).
    pub header: bool,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            format: Format::Table,
            header: true,
        }
    }
}

impl Output {
    /// `-o json` (or `--json`).
    pub fn is_json(self) -> bool {
        self.format == Format::Json
    }

    /// `-o csv` or `-o tsv`: rows only on stdout, anything else on stderr.
    pub fn is_delimited(self) -> bool {
        matches!(self.format, Format::Csv | Format::Tsv)
    }

    /// `rows` under `columns` in this format: a table, CSV, TSV, or (`json`) an array of objects
    /// keyed by the columns' names. Every row has one cell per column.
    pub fn render(self, columns: &[Column], rows: &[Vec<String>]) -> String {
        match self.format {
            Format::Table => {
                let titles: Vec<&str> = columns.iter().map(|c| c.title).collect();
                let text = table::render(&titles, rows);
                if self.header {
                    text
                } else {
                    // The first line is the header row.
                    text.split_once('\n')
                        .map_or_else(String::new, |(_, rest)| rest.to_owned())
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let mut write = |record: &mut dyn Iterator<Item = &str>| {
                    w.write_record(record)
                        .expect("CSV is written to memory, which cannot fail");
                };
                if self.header {
                    write(&mut columns.iter().map(|c| c.name));
                }
                for row in rows {
                    write(&mut row.iter().map(String::as_str));
                }
                let bytes = w
                    .into_inner()
                    .expect("CSV is written to memory, which cannot fail");
                String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
            }
            Format::Tsv => {
                let mut out = String::new();
                let mut line = |cells: &mut dyn Iterator<Item = &str>| {
                    let cells: Vec<String> = cells.map(tsv_escape).collect();
                    out.push_str(&cells.join("\t"));
                    out.push('\n');
                };
                if self.header {
                    line(&mut columns.iter().map(|c| c.name));
                }
                for row in rows {
                    line(&mut row.iter().map(String::as_str));
                }
                out
            }
            Format::Json => {
                let objects: Vec<Value> = rows
                    .iter()
                    .map(|row| {
                        let mut object = Map::new();
                        for (c, cell) in columns.iter().zip(row) {
                            object.insert(c.name.to_owned(), Value::String(cell.clone()));
                        }
                        Value::Object(object)
                    })
                    .collect();
                let mut text =
                    serde_json::to_string_pretty(&objects).expect("JSON strings serialize");
                text.push('\n');
                text
            }
        }
    }
}

/// A TSV cell: backslash, tab, line feed and carriage return escaped as `\\`, `\t`, `\n`, `\r`.
pub fn tsv_escape(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    for c in cell.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 2] = [column("SID", "sid"), column("VALID UNTIL", "valid_until")];

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["BU1".into(), "a, \"b\"\nc".into()],
            vec!["BU2".into(), "tab\there \\ back".into()],
        ]
    }

    fn output(format: Format, header: bool) -> Output {
        Output { format, header }
    }

    #[test]
    fn csv_quotes_and_reads_back() {
        let text = output(Format::Csv, true).render(&COLUMNS, &rows());
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap(), vec!["sid", "valid_until"]);
        let back: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(back, rows());
        let bare = output(Format::Csv, false).render(&COLUMNS, &rows());
        assert!(bare.starts_with("BU1,"), "{bare}");
    }

    #[test]
    fn tsv_escapes_tabs_line_breaks_and_backslashes() {
        let text = output(Format::Tsv, true).render(&COLUMNS, &rows());
        assert_eq!(
            text,
            "sid\tvalid_until\nBU1\ta, \"b\"\\nc\nBU2\ttab\\there \\\\ back\n"
        );
        for line in text.lines() {
            assert_eq!(line.split('\t').count(), 2, "{line}");
        }
        let bare = output(Format::Tsv, false).render(&COLUMNS, &rows());
        assert_eq!(bare.lines().count(), 2);
    }

    #[test]
    fn table_without_header_drops_the_first_line_only() {
        let rows = vec![vec!["BU1".into(), "2026".into()]];
        let with = output(Format::Table, true).render(&COLUMNS, &rows);
        assert_eq!(with, "SID  VALID UNTIL\nBU1  2026\n");
        let without = output(Format::Table, false).render(&COLUMNS, &rows);
        assert_eq!(without, "BU1  2026\n");
    }

    #[test]
    fn json_keys_rows_by_column_name() {
        let text = output(Format::Json, true).render(&COLUMNS, &rows()[..1]);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value[0]["valid_until"], "a, \"b\"\nc");
    }
}
