//! The AAMVA parser on arbitrary bytes.
#![no_main]

use idgate_docparse::aamva;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(licence) = aamva::parse(data) {
        assert!(!licence.elements.is_empty());
        // Partial is said whenever a problem that loses data was found.
        if licence.problems.contains(&"truncated") {
            assert!(licence.partial);
        }
    }
});
