//! A flat view of an XML list: each record element (`INDIVIDUAL`, `sdnEntry`) as its text
//! fields, each with its path below the record and the number of the record's child it sits
//! in (so an alias's quality and name stay together). Namespaces are ignored.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// One text field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Local names below the record, joined by `/` (`INDIVIDUAL_ALIAS/ALIAS_NAME`).
    pub path: String,
    /// The ordinal (in document order) of each element on `path`, to tell apart the fields of
    /// two aliases.
    pub starts: Vec<usize>,
    pub text: String,
}

/// A record and its record-level tag.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub tag: String,
    pub fields: Vec<Field>,
}

impl Record {
    /// The first field at `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.path == path).map(|f| f.text.as_str())
    }

    /// Every field at `path`.
    pub fn all<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |f| f.path == path).map(|f| f.text.as_str())
    }

    /// The fields below each element at `path` (`akaList/aka`), one group per element.
    pub fn groups(&self, path: &str) -> Vec<Vec<&Field>> {
        let prefix = format!("{path}/");
        let depth = path.split('/').count() - 1;
        let mut groups: Vec<(usize, Vec<&Field>)> = Vec::new();
        for f in self.fields.iter().filter(|f| f.path.starts_with(&prefix)) {
            let Some(&n) = f.starts.get(depth) else { continue };
            match groups.last_mut() {
                Some((m, group)) if *m == n => group.push(f),
                _ => groups.push((n, vec![f])),
            }
        }
        groups.into_iter().map(|(_, g)| g).collect()
    }
}

/// The root element's attributes, the records found at any depth whose tag is one of
/// `tags`, and every text field of `header` elements (e.g. the publication block).
pub struct Document {
    pub root_attributes: Vec<(String, String)>,
    pub records: Vec<Record>,
    pub header: Vec<(String, String)>,
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or_default().to_owned()
}

pub fn parse(xml: &[u8], tags: &[&str], header: &str) -> Result<Document, String> {
    let mut reader = Reader::from_reader(xml);
    let mut doc = Document { root_attributes: Vec::new(), records: Vec::new(), header: Vec::new() };
    // Open elements: local name and ordinal.
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut started = 0usize;
    // The open record and its depth in `stack`.
    let mut open: Option<(usize, Record)> = None;
    let mut in_header: Option<usize> = None;
    let mut buf = Vec::new();
    // Text of the innermost element so far (text and entity references arrive in pieces).
    let mut pending = String::new();
    loop {
        let event =
            reader.read_event_into(&mut buf).map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        if matches!(event, Event::Start(_) | Event::End(_) | Event::Empty(_) | Event::Eof) {
            let text = std::mem::take(&mut pending);
            let text = text.trim();
            if !text.is_empty() {
                if let Some((depth, record)) = &mut open {
                    let below = stack.get(*depth + 1..).unwrap_or_default();
                    let path = below.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("/");
                    let starts = below.iter().map(|(_, s)| *s).collect();
                    record.fields.push(Field { path, starts, text: text.to_owned() });
                } else if in_header.is_some()
                    && let Some((name, _)) = stack.last()
                {
                    doc.header.push((name.clone(), text.to_owned()));
                }
            }
        }
        match event {
            Event::Start(e) => {
                let name = local(e.name().as_ref());
                if stack.is_empty() {
                    for a in e.attributes().flatten() {
                        let value = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        doc.root_attributes.push((local(a.key.as_ref()), value));
                    }
                }
                if open.is_none() && tags.contains(&name.as_str()) {
                    open = Some((stack.len(), Record { tag: name.clone(), fields: Vec::new() }));
                }
                if name == header && in_header.is_none() {
                    in_header = Some(stack.len());
                }
                stack.push((name, started));
                started += 1;
            }
            Event::End(_) => {
                stack.pop();
                if open.as_ref().is_some_and(|(depth, _)| *depth == stack.len())
                    && let Some((_, record)) = open.take()
                {
                    doc.records.push(record);
                }
                if in_header == Some(stack.len()) {
                    in_header = None;
                }
            }
            Event::Text(t) => pending.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::CData(t) => pending.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => Some(c),
                    None => match name.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                };
                pending.extend(resolved);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    Ok(doc)
}
