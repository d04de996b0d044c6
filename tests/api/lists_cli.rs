//! `idgate lists import | show` and `idgate screen` through the real binary, on the real
//! lists in ../shared/data/sanctions: JSON shape, exit codes, and a file that is not a list
//! refused (exit 2, one line) without touching what was imported.

use crate::helpers::{idgate, shared_data, stderr_lines, stdout_json};

#[test]
fn lists_are_imported_shown_and_screened_and_a_bad_file_changes_nothing() {
    let Some(data) = shared_data("sanctions") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let ofac = data.join("ofac_sdn_2021-07");
    let out = idgate(&[
        "--data-dir",
        d,
        "lists",
        "import",
        "--format",
        "ofac-sdn-csv",
        ofac.to_str().unwrap(),
        "--published",
        "2021-07-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", stderr_lines(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported ofac-sdn (ofac-sdn-csv): 8976 entries"), "{out:?}");
    let un = data.join("un_consolidated_2026-02.xml");
    let out = idgate(&["--data-dir", d, "lists", "import", "--format", "un-xml", un.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", stderr_lines(&out));

    let shown = stdout_json(&idgate(&["--data-dir", d, "lists", "show", "--json"]));
    let lists = shown["lists"].as_array().unwrap();
    let summary: Vec<(&str, &str)> =
        lists.iter().map(|l| (l["list"]["name"].as_str().unwrap(), l["list"]["published"].as_str().unwrap())).collect();
    assert_eq!(summary, [("ofac-sdn", "2021-07-01"), ("un-consolidated", "2026-02-27")]);
    assert_eq!(lists[0]["list"]["sha256"].as_str().unwrap().len(), 64);

    let screen = |args: &[&str]| {
        let mut all = vec!["--data-dir", d, "screen", "--json"];
        all.extend_from_slice(args);
        idgate(&all)
    };
    let out = screen(&[
        "--given-name",
        "Yong-Chol",
        "--family-name",
        "KIM",
        "--birth-date",
        "1962-02-18",
        "--nationality",
        "KP",
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", stderr_lines(&out));
    let j = stdout_json(&out);
    assert_eq!(j["review_threshold"], 85);
    let top = &j["matches"][0];
    assert_eq!(
        (top["list"].as_str(), top["entry_id"].as_str(), top["review"].as_bool()),
        (Some("ofac-sdn"), Some("17614"), Some(true)),
        "{j}"
    );
    assert!(top["programs"].as_array().unwrap().contains(&"DPRK2".into()));
    assert!(top["agreed"].as_array().unwrap().contains(&"birth_date".into()), "{j}");
    assert_eq!(j["lists"].as_array().unwrap().len(), 2);
    let innocent =
        stdout_json(&screen(&["--given-name", "Yong Chol", "--family-name", "Kim", "--birth-date", "1990-01-01"]));
    assert!(innocent["matches"].as_array().unwrap().iter().all(|m| m["review"] == false), "{innocent}");

    // Not a list, a wrong format, a bad date: exit 2, one line, nothing changed.
    let text = dir.path().join("notes.xml");
    std::fs::write(&text, "<notes><note>hello</note></notes>").unwrap();
    for args in [
        vec!["lists", "import", "--format", "un-xml", text.to_str().unwrap()],
        vec!["lists", "import", "--format", "ofac-sdn-xml", un.to_str().unwrap()],
        vec!["lists", "import", "--format", "ofac-sdn-csv", dir.path().to_str().unwrap()],
        vec!["lists", "import", "--format", "ofac-sdn-csv", ofac.to_str().unwrap(), "--published", "July 2021"],
    ] {
        let mut all = vec!["--data-dir", d];
        all.extend(args.iter().copied());
        let out = idgate(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {:?}", stderr_lines(&out));
        assert_eq!(stderr_lines(&out).len(), 1, "{args:?}: {:?}", stderr_lines(&out));
    }
    assert_eq!(stdout_json(&idgate(&["--data-dir", d, "lists", "show", "--json"]))["lists"], shown["lists"]);
    let out = screen(&["--given-name", "A", "--family-name", "B", "--birth-date", "18/02/1962"]);
    assert_eq!(out.status.code(), Some(2));
}
