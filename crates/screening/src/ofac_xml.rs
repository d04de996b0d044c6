//! Treasury's SDN XML (`sdn.xml`, namespace `http://tempuri.org/sdnList.xsd`): a
//! `publshInformation` block with `Publish_Date` (MM/DD/YYYY), then `sdnEntry` records with
//! `uid`, `firstName`/`lastName`, `sdnType`, `programList/program`, `akaList/aka` (with
//! `category` strong or weak), `dateOfBirthList/dateOfBirthItem/dateOfBirth`,
//! `nationalityList/nationality/country` and `citizenshipList/citizenship/country`.

use std::path::Path;

use crate::model::{Entry, EntryKind, List, ListedName, NameStrength};
use crate::ofac_csv::parse_birth_date;
use crate::xml::{self, Field, Record};
use crate::{LoadError, countries};

const FORMAT: &str = "ofac-sdn-xml";

pub fn load(path: &Path) -> Result<List, LoadError> {
    let bytes = crate::read(path)?;
    parse(&bytes).map_err(|why| LoadError::format(path, FORMAT, why))
}

/// `LAST, First` as the CSV writes it, from the parts.
fn full_name(last: Option<&str>, first: Option<&str>) -> Option<String> {
    match (last, first) {
        (Some(l), Some(f)) => Some(format!("{l}, {f}")),
        (Some(l), None) => Some(l.to_owned()),
        (None, Some(f)) => Some(f.to_owned()),
        (None, None) => None,
    }
}

pub fn parse(bytes: &[u8]) -> Result<List, String> {
    let doc = xml::parse(bytes, &["sdnEntry"], "publshInformation")?;
    let date = doc.header.iter().find(|(k, _)| k == "Publish_Date").map(|(_, v)| v.as_str());
    let Some(published) = date.and_then(us_date) else {
        return Err("no publshInformation/Publish_Date: not an OFAC SDN XML file".to_owned());
    };
    let entries: Vec<Entry> = doc.records.iter().filter_map(entry).collect();
    if entries.is_empty() {
        return Err("no sdnEntry records".to_owned());
    }
    Ok(List::new("ofac-sdn", FORMAT, Some(published), &[bytes], entries))
}

/// MM/DD/YYYY → YYYY-MM-DD.
fn us_date(text: &str) -> Option<String> {
    let mut parts = text.trim().split('/');
    let month: u8 = parts.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day: u8 = parts.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i32 = parts.next()?.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

fn in_group<'a>(group: &[&'a Field], path: &str) -> Option<&'a str> {
    group.iter().find(|f| f.path == path).map(|f| f.text.as_str())
}

fn entry(record: &Record) -> Option<Entry> {
    let id = record.get("uid")?.to_owned();
    let name = full_name(record.get("lastName"), record.get("firstName"))?;
    let kind = match record.get("sdnType") {
        Some("Individual") => EntryKind::Individual,
        Some("Entity") => EntryKind::Entity,
        _ => EntryKind::Other,
    };
    let mut names = vec![ListedName { name, strength: NameStrength::Primary }];
    for aka in record.groups("akaList/aka") {
        let Some(alias) = full_name(in_group(&aka, "akaList/aka/lastName"), in_group(&aka, "akaList/aka/firstName"))
        else {
            continue;
        };
        let weak = in_group(&aka, "akaList/aka/category").is_some_and(|c| c.eq_ignore_ascii_case("weak"));
        names.push(ListedName { name: alias, strength: if weak { NameStrength::Weak } else { NameStrength::Strong } });
    }
    let birth_dates = record.all("dateOfBirthList/dateOfBirthItem/dateOfBirth").filter_map(parse_birth_date).collect();
    let mut nationalities: Vec<String> = record
        .all("nationalityList/nationality/country")
        .chain(record.all("citizenshipList/citizenship/country"))
        .filter_map(countries::alpha2)
        .map(str::to_owned)
        .collect();
    nationalities.sort();
    nationalities.dedup();
    Some(Entry {
        id,
        kind,
        names,
        birth_dates,
        nationalities,
        programs: record.all("programList/program").map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BirthDate;

    const SAMPLE: &str = r#"<?xml version="1.0" standalone="yes"?>
<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>07/12/2021</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>17614</uid><firstName>Yong Chol</firstName><lastName>KIM</lastName><title>KOMID Representative in Iran</title>
    <sdnType>Individual</sdnType>
    <programList><program>DPRK2</program></programList>
    <akaList><aka><uid>1</uid><type>a.k.a.</type><category>weak</category><lastName>KIM &amp; CO</lastName></aka>
      <aka><uid>2</uid><type>a.k.a.</type><category>strong</category><lastName>KIM</lastName><firstName>Yong-Chol</firstName></aka></akaList>
    <nationalityList><nationality><uid>3</uid><country>Korea, North</country><mainEntry>true</mainEntry></nationality></nationalityList>
    <dateOfBirthList><dateOfBirthItem><uid>4</uid><dateOfBirth>18 Feb 1962</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem></dateOfBirthList>
  </sdnEntry>
  <sdnEntry><uid>36</uid><lastName>AEROCARIBBEAN AIRLINES</lastName><sdnType>Entity</sdnType>
    <programList><program>CUBA</program></programList></sdnEntry>
</sdnList>"#;

    #[test]
    fn treasury_xml_reads_like_the_csv() {
        let list = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(list.meta.published.as_deref(), Some("2021-07-12"));
        let kim = &list.entries[0];
        assert_eq!(
            (kim.id.as_str(), kim.kind, kim.programs.as_slice()),
            ("17614", EntryKind::Individual, &["DPRK2".to_owned()][..])
        );
        assert_eq!(kim.names[0].name, "KIM, Yong Chol");
        assert_eq!((kim.names[1].name.as_str(), kim.names[1].strength), ("KIM & CO", NameStrength::Weak));
        assert_eq!(kim.names[2].strength, NameStrength::Strong);
        assert_eq!(kim.birth_dates, [BirthDate::Exact { year: 1962, month: 2, day: 18 }]);
        assert_eq!(kim.nationalities, ["KP"]);
        assert_eq!(list.entries[1].kind, EntryKind::Entity);
        assert!(parse(b"<sdnList><sdnEntry><uid>1</uid></sdnEntry></sdnList>").is_err());
        assert!(parse(b"not xml at all <<<").is_err());
    }
}
