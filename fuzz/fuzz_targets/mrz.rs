//! The MRZ parser on arbitrary text (split into lines at '\n'), with and without repair.
#![no_main]

use idgate_docparse::mrz::{self, Repair};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let today = time::macros::date!(2026 - 11 - 23);
    for repair in [Repair::Strict, Repair::Ocr] {
        if let Ok(m) = mrz::parse(&lines, today, repair) {
            // Whatever parsed has the format's shape.
            assert_eq!(m.lines.len(), m.format.lines());
            assert!(m.lines.iter().all(|l| l.len() == m.format.width()));
        }
    }
});
