//! One screening against OFAC SDN (2021-07 CSV set) + UN consolidated (2026-02) from
//! ../shared/data/sanctions, and importing the SDN CSV set. Targets: ≤ 5 ms median per
//! screening on 2 cores, ≤ 2 s per import. `cargo bench -p idgate-screening --bench screen`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use idgate_screening::{Query, Screener, Thresholds, ofac_csv, un_xml};

fn data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sanctions");
    dir.is_dir().then_some(dir)
}

fn benches(c: &mut Criterion) {
    let Some(dir) = data() else {
        return println!("SKIP screening bench: ../shared/data/sanctions is missing");
    };
    let ofac = dir.join("ofac_sdn_2021-07");
    c.bench_function("import OFAC SDN CSV set", |b| b.iter(|| ofac_csv::load(black_box(&ofac), None).unwrap()));
    let lists = [ofac_csv::load(&ofac, None).unwrap(), un_xml::load(&dir.join("un_consolidated_2026-02.xml")).unwrap()];
    let screener = Screener::new(&lists, Thresholds::default());
    let (people, names) = screener.size();
    println!("screening against {people} listed individuals, {names} names with aliases");
    let queries = [
        Query {
            given_name: "Yong Chol".into(),
            family_name: "Kim".into(),
            birth_date: Some((1962, 2, 18)),
            nationality: Some("KP".into()),
        },
        Query {
            given_name: "Muhammad".into(),
            family_name: "Ali".into(),
            birth_date: Some((1975, 5, 1)),
            nationality: None,
        },
        Query {
            given_name: "Jane".into(),
            family_name: "Doe".into(),
            birth_date: Some((1990, 1, 1)),
            nationality: Some("US".into()),
        },
    ];
    for q in &queries {
        c.bench_function(&format!("screen {} {}", q.given_name, q.family_name), |b| {
            b.iter(|| screener.screen(black_box(q)))
        });
    }
}

criterion_group!(group, benches);
criterion_main!(group);
