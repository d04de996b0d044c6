//! The UN Security Council consolidated list (`consolidated.xml`): `INDIVIDUAL` and `ENTITY`
//! records, names in `FIRST_NAME` … `FOURTH_NAME` (for Korean entries the family name comes
//! first), aliases with their quality (`Good`, `a.k.a.`, `f.k.a.` strong; `Low` weak), birth
//! dates by `TYPE_OF_DATE`, and the generation date of the file as its publication date.

use std::path::Path;

use crate::model::{BirthDate, Entry, EntryKind, List, ListedName, NameStrength, iso_date};
use crate::xml::{self, Record};
use crate::{LoadError, countries};

const FORMAT: &str = "un-xml";

pub fn load(path: &Path) -> Result<List, LoadError> {
    let bytes = crate::read(path)?;
    parse(&bytes).map_err(|why| LoadError::format(path, FORMAT, why))
}

pub fn parse(bytes: &[u8]) -> Result<List, String> {
    let doc = xml::parse(bytes, &["INDIVIDUAL", "ENTITY"], "")?;
    let generated = doc.root_attributes.iter().find(|(k, _)| k == "dateGenerated").map(|(_, v)| v.clone());
    let Some(published) = generated.as_deref().and_then(iso_date) else {
        return Err("no CONSOLIDATED_LIST dateGenerated attribute: not a UN consolidated list".to_owned());
    };
    let entries: Vec<Entry> = doc.records.iter().filter_map(entry).collect();
    if entries.is_empty() {
        return Err("no INDIVIDUAL or ENTITY records".to_owned());
    }
    let published = format!("{:04}-{:02}-{:02}", published.0, published.1, published.2);
    Ok(List::new("un-consolidated", FORMAT, Some(published), &[bytes], entries))
}

fn entry(record: &Record) -> Option<Entry> {
    let id = record.get("REFERENCE_NUMBER").or_else(|| record.get("DATAID"))?.to_owned();
    let primary: Vec<&str> =
        ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"].iter().filter_map(|p| record.get(p)).collect();
    if primary.is_empty() {
        return None;
    }
    let mut names = vec![ListedName { name: primary.join(" "), strength: NameStrength::Primary }];
    let alias_tag = if record.tag == "INDIVIDUAL" { "INDIVIDUAL_ALIAS" } else { "ENTITY_ALIAS" };
    for group in record.groups(alias_tag) {
        let field =
            |name: &str| group.iter().find(|f| f.path == format!("{alias_tag}/{name}")).map(|f| f.text.as_str());
        let Some(alias) = field("ALIAS_NAME") else { continue };
        let strength = match field("QUALITY") {
            Some(q) if q.eq_ignore_ascii_case("low") => NameStrength::Weak,
            _ => NameStrength::Strong,
        };
        names.push(ListedName { name: alias.to_owned(), strength });
    }
    let birth_dates = record.groups("INDIVIDUAL_DATE_OF_BIRTH").iter().filter_map(|g| birth_date(g)).collect();
    let mut nationalities: Vec<String> =
        record.all("NATIONALITY/VALUE").filter_map(countries::alpha2).map(str::to_owned).collect();
    nationalities.dedup();
    Some(Entry {
        id,
        kind: if record.tag == "INDIVIDUAL" { EntryKind::Individual } else { EntryKind::Entity },
        names,
        birth_dates,
        nationalities,
        programs: record.all("UN_LIST_TYPE").map(str::to_owned).collect(),
    })
}

fn birth_date(group: &[&xml::Field]) -> Option<BirthDate> {
    let field = |name: &str| {
        group.iter().find(|f| f.path == format!("INDIVIDUAL_DATE_OF_BIRTH/{name}")).map(|f| f.text.as_str())
    };
    let year = |name: &str| field(name).and_then(|y| y.trim().parse::<i32>().ok());
    match field("TYPE_OF_DATE").unwrap_or("EXACT") {
        "BETWEEN" => Some(BirthDate::Range { from: year("FROM_YEAR")?, to: year("TO_YEAR")? }),
        "APPROXIMATELY" => Some(BirthDate::Circa { year: year("YEAR")? }),
        _ => match field("DATE").and_then(iso_date) {
            Some((year, month, day)) => Some(BirthDate::Exact { year, month, day }),
            None => Some(BirthDate::Year { year: year("YEAR")? }),
        },
    }
}
