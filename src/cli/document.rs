//! `idgate document read IMAGE [--json]` and `idgate document mrz [--json] LINE...`: what a
//! document says, its check results and the OCR corrections. Exit 0 when a zone (or barcode)
//! was read, valid or not; 2 when the input holds none.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Failure, error_chain, load_engine};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::document::mrz::{self, Mrz, Repair};
use crate::document::reading::{self, Reading};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Read the MRZ (or a licence's PDF417 barcode) on a photo of a document.
    Read {
        image: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Parse a machine-readable zone given as text, one argument per line.
    Mrz {
        #[arg(required = true)]
        lines: Vec<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Report the text exactly as given: no OCR repair.
        #[arg(long)]
        strict: bool,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    let today = SystemClock.now().date().ok_or_else(|| Failure::internal("the clock is out of range"))?;
    match command {
        Command::Mrz { lines, json, strict } => {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let repair = if strict { Repair::Strict } else { Repair::Ocr };
            let m = mrz::parse(&refs, today, repair)
                .map_err(|e| Failure::bad_input(format!("not a machine-readable zone: {e}")))?;
            print(&mrz_json(&m, None), json);
            Ok(())
        }
        Command::Read { image, json } => {
            crate::telemetry::init("warn,ort=error");
            let engine = load_engine(&settings)?;
            let reading = reading::read_document(&engine, &image, today).map_err(|e| {
                let message = format!("{} ({})", error_chain(&e), e.code());
                if e.is_bad_input() { Failure::bad_input(message) } else { Failure::internal(message) }
            })?;
            match reading {
                Reading { mrz: Some(read), .. } => print(&mrz_json(&read.mrz, Some(&read.raw_lines)), json),
                Reading { barcode: Some(licence), .. } => print(&licence.to_json(), json),
                _ => {
                    return Err(Failure::bad_input(
                        "no machine-readable zone or PDF417 barcode found (no_document_data)",
                    ));
                }
            }
            Ok(())
        }
    }
}

/// The JSON shape of a parsed zone (stable: scripts read it).
pub fn mrz_json(m: &Mrz, raw_lines: Option<&[String]>) -> Value {
    let date = |d: Option<time::Date>| d.map(|d| d.to_string());
    json!({
        "format": m.format,
        "document_kind": m.document_kind,
        "document_code": m.document_code,
        "check_digits_valid": m.check_digits_valid(),
        "fields": {
            "document_number": m.document_number,
            "issuing_state": m.issuing_state,
            "nationality": m.nationality,
            "surname": m.surname,
            "given_names": m.given_names,
            "birth_date": date(m.birth_date),
            "expiry_date": date(m.expiry_date),
            "sex": m.sex.code().to_string(),
            "optional_data": m.optional_data,
        },
        "checks": m.checks,
        "long_number_check": m.long_number_check,
        "field_checks": m.fields,
        "findings": m.findings,
        "corrections": m.corrections,
        "confidence": m.confidence,
        "lines": m.lines,
        "ocr_lines": raw_lines,
    })
}

fn print(value: &Value, as_json: bool) {
    if as_json {
        outln!("{value}");
        return;
    }
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    if let Some(fields) = value.get("fields").and_then(Value::as_object) {
        let format = value.get("format").and_then(Value::as_str).unwrap_or("?");
        outln!("format: {format}");
        for (k, v) in fields {
            outln!("  {k:<16} {}", shown(v));
        }
    } else {
        // A licence barcode (AAMVA).
        outln!("format: AAMVA {}", value.pointer("/header/version").map(shown).unwrap_or_default());
        for key in [
            "document_type",
            "document_number",
            "family_name",
            "first_name",
            "middle_names",
            "birth_date",
            "expiry_date",
            "issue_date",
            "sex",
            "jurisdiction",
            "address",
            "height_cm",
            "eye_colour",
        ] {
            outln!("  {key:<16} {}", value.get(key).map(shown).unwrap_or_default());
        }
    }
    for key in ["check_digits_valid", "findings", "corrections", "lines", "partial", "problems"] {
        if let Some(v) = value.get(key).filter(|v| !v.is_null()) {
            outln!("{key}: {v}");
        }
    }
}
