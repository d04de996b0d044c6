//! The document stage: read the document (MRZ by OCR, or a licence's PDF417 barcode), check it
//! against itself (check digits, dates, published specimens) and against the candidate's claims
//! (names, birth date, nationality, expiry, minimum age). Each failed check is a named finding
//! with a severity that the decision stage weighs. The document number leaves this stage only
//! as a keyed hash and a sealed copy (see `storage::documents`), never in the results.

use std::path::Path;

use opencv::core::Mat;
use serde::Serialize;
use time::Date;

use super::document_reuse::Reuse;
use crate::document::aamva::Licence;
use crate::document::mrz::{DocumentKind, Format, LongNumberConvention, Mrz};
use crate::document::reading::{ReadError, Reading, read_image};
use crate::document::specimens;
use crate::domain::names::{self, NameMatch};
use crate::engine::{Engine, StageTimes};
use crate::tokens::claims::CheckDetail;

/// How much a finding weighs in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Recorded only.
    Info,
    /// A human looks (review).
    Major,
    /// The verification is rejected.
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
}

/// What the candidate claims, as the stage needs it. `Debug` is redacted (PII).
#[derive(Clone)]
pub struct ClaimedIdentity {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
}

impl std::fmt::Debug for ClaimedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimedIdentity(***)")
    }
}

#[derive(Debug, Clone, Copy)]
pub struct DocumentPolicy {
    pub min_age: u8,
    /// Below this name similarity the names disagree (reject); up to `name_match` a human looks.
    pub name_mismatch: f32,
    pub name_match: f32,
}

impl Default for DocumentPolicy {
    fn default() -> Self {
        Self { min_age: 18, name_mismatch: 0.75, name_match: 0.9 }
    }
}

/// The stage's stored result: no document number, no name, no birth date. (`Debug` leaves
/// the number out too.)
#[derive(Clone, Serialize)]
pub struct DocumentCheck {
    /// `mrz`, `pdf417` or `none`.
    pub source: &'static str,
    pub format: Option<Format>,
    pub document_kind: Option<DocumentKind>,
    /// ISO 3166-1 alpha-3 (ICAO codes such as `D` kept as printed).
    pub issuing_state: Option<String>,
    pub nationality: Option<String>,
    #[serde(with = "crate::document::mrz::fields_iso_date")]
    pub expiry_date: Option<Date>,
    pub check_digits_valid: Option<bool>,
    /// A number longer than nine characters: the check-digit convention that held (`icao`, or
    /// `filler_included` for the issuers known to use it).
    pub long_number_check: Option<LongNumberConvention>,
    pub ocr_corrections: usize,
    pub ocr_confidence: Option<f32>,
    pub name: Option<NameMatch>,
    pub findings: Vec<Finding>,
    /// Earlier verifications with the same document, by identity (set by the worker once the
    /// number's keyed hash is looked up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse: Option<Reuse>,
    pub read_ms: f64,
    /// Images whose reading was the upload's (the readability answer's), not read again;
    /// never serialised (the worker counts them in `idgate_document_readings_reused_total`).
    #[serde(skip)]
    pub readings_reused: usize,
    /// The document number, for sealing and the keyed look-up hash; never serialised.
    #[serde(skip)]
    pub document_number: Option<String>,
    /// The holder's (given, family) names as printed, for sanctions screening; never serialised.
    #[serde(skip)]
    pub holder_names: Option<(String, String)>,
    /// The holder's birth date as printed, for sanctions screening; never serialised.
    #[serde(skip)]
    pub birth_date: Option<Date>,
}

impl std::fmt::Debug for DocumentCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentCheck")
            .field("source", &self.source)
            .field("format", &self.format)
            .field("findings", &self.findings)
            .finish_non_exhaustive()
    }
}

impl DocumentCheck {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Records what earlier uses of the document say, with their findings (worst first).
    pub fn add_reuse(&mut self, reuse: Reuse) {
        for finding in reuse.findings() {
            push(&mut self.findings, finding.code, finding.severity);
        }
        sort(&mut self.findings);
        self.reuse = Some(reuse);
    }
}

/// The claimed alpha-2 country as ICAO 9303 writes it (alpha-3; Germany is `D`).
impl super::stage::Stage for DocumentCheck {
    const NAME: &'static str = "document";

    fn audit(&self) -> serde_json::Value {
        serde_json::json!({
            "source": self.source, "format": self.format, "findings": self.findings,
            "long_number_check": self.long_number_check, "reuse": self.reuse,
        })
    }

    fn evidence(&self, _ctx: super::stage::EvidenceContext) -> Vec<CheckDetail> {
        vec![CheckDetail {
            check: self.source.into(),
            check_method: "data".into(),
            result: "consistent".into(),
            score_band: None,
            lists: Vec::new(),
        }]
    }
}

fn icao_country(alpha2: &str) -> Option<String> {
    let code = isocountry::CountryCode::for_alpha2(alpha2).ok()?.alpha3();
    Some(if code == "DEU" { "D".to_owned() } else { code.to_owned() })
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(b.code)));
}

fn push(findings: &mut Vec<Finding>, code: &'static str, severity: Severity) {
    if !findings.iter().any(|f| f.code == code) {
        findings.push(Finding { code, severity });
    }
}

/// Reads the front (and back, for a licence) and checks the result against the claims.
pub fn check(
    engine: &Engine,
    front: &Path,
    back: Option<&Path>,
    claims: &ClaimedIdentity,
    today: Date,
    policy: DocumentPolicy,
) -> Result<DocumentCheck, ReadError> {
    let mut times = StageTimes::default();
    let front = engine.decode_image(front, &mut times)?;
    let back = back.map(|b| engine.decode_image(b, &mut times)).transpose()?;
    check_images(engine, &front, back.as_ref(), [None, None], claims, today, policy)
}

/// As `check`, on images already decoded (the pipeline decodes each input once).
pub fn check_images(
    engine: &Engine,
    front: &Mat,
    back: Option<&Mat>,
    [known_front, known_back]: [Option<Reading>; 2],
    claims: &ClaimedIdentity,
    today: Date,
    policy: DocumentPolicy,
) -> Result<DocumentCheck, ReadError> {
    let started = std::time::Instant::now();
    let reused = usize::from(known_front.is_some()) + usize::from(back.is_some() && known_back.is_some());
    let mut reading = match known_front {
        Some(known) => known,
        None => read_image(engine, front, today)?,
    };
    if let Some(back) = back {
        let more = match known_back {
            Some(known) => known,
            None => read_image(engine, back, today)?,
        };
        reading.mrz = reading.mrz.or(more.mrz);
        reading.barcode = reading.barcode.or(more.barcode);
    }
    let mut result = assess(&reading, claims, today, policy);
    result.read_ms = started.elapsed().as_secs_f64() * 1e3;
    result.readings_reused = reused;
    Ok(result)
}

/// The checks, on what was read (pure: no models, no IO).
pub fn assess(reading: &Reading, claims: &ClaimedIdentity, today: Date, policy: DocumentPolicy) -> DocumentCheck {
    let mut findings = Vec::new();
    let mrz = reading.mrz.as_ref().map(|r| &r.mrz);
    let licence = reading.barcode.as_ref();
    let mut out = DocumentCheck {
        source: if mrz.is_some() {
            "mrz"
        } else if licence.is_some() {
            "pdf417"
        } else {
            "none"
        },
        format: mrz.map(|m| m.format),
        document_kind: mrz.map(|m| m.document_kind),
        issuing_state: None,
        nationality: None,
        expiry_date: None,
        check_digits_valid: mrz.map(Mrz::check_digits_valid),
        long_number_check: mrz.and_then(|m| m.long_number_check),
        ocr_corrections: mrz.map_or(0, |m| m.corrections.len()),
        ocr_confidence: mrz.map(|m| m.confidence),
        name: None,
        findings: Vec::new(),
        reuse: None,
        read_ms: 0.0,
        readings_reused: 0,
        document_number: None,
        holder_names: None,
        birth_date: None,
    };
    // What the document says, from the MRZ, else the barcode.
    let said = match (mrz, licence) {
        (Some(m), _) => Some(Said::from_mrz(m)),
        (None, Some(l)) => Some(Said::from_licence(l)),
        (None, None) => None,
    };
    let Some(said) = said else {
        push(&mut findings, "document_unreadable", Severity::Major);
        out.findings = findings;
        return out;
    };
    if let Some(m) = mrz {
        if !m.check_digits_valid() {
            push(&mut findings, "check_digits_invalid", Severity::Major);
        }
        if !m.corrections.is_empty() {
            push(&mut findings, "ocr_corrected", Severity::Info);
        }
    }
    if let Some(l) = licence {
        if l.partial {
            push(&mut findings, "barcode_partial", Severity::Major);
        }
        if let (Some(issue), Some(expiry)) = (l.issue_date, l.expiry_date)
            && issue >= expiry
        {
            push(&mut findings, "dates_implausible", Severity::Critical);
        }
        if let (Some(issue), Some(birth)) = (l.issue_date, l.birth_date)
            && birth >= issue
        {
            push(&mut findings, "dates_implausible", Severity::Critical);
        }
    }
    if let (Some(m), Some(l)) = (mrz, licence) {
        let disagree = l.birth_date.is_some() && l.birth_date != m.birth_date
            || l.document_number.as_deref().is_some_and(|n| n != m.document_number);
        if disagree {
            push(&mut findings, "mrz_barcode_disagree", Severity::Critical);
        }
    }
    // Document against itself.
    match said.expiry {
        Some(expiry) if expiry < today => push(&mut findings, "document_expired", Severity::Critical),
        None => push(&mut findings, "expiry_unreadable", Severity::Major),
        _ => {}
    }
    if said.birth.is_some_and(|b| b > today) || matches!((said.birth, said.expiry), (Some(b), Some(e)) if b >= e) {
        push(&mut findings, "dates_implausible", Severity::Critical);
    }
    let number = said.number.as_deref().unwrap_or_default();
    if specimens::recognise(number, &said.family, &said.given, said.birth).is_some() {
        push(&mut findings, "specimen_document", Severity::Critical);
    }
    // Document against the claims.
    let name = names::compare(&claims.given_name, &claims.family_name, &said.given, &said.family);
    if name.similarity < policy.name_mismatch {
        push(&mut findings, "name_mismatch", Severity::Critical);
    } else if name.similarity < policy.name_match {
        push(&mut findings, "name_partial_match", Severity::Major);
    }
    if name.swapped {
        push(&mut findings, "name_order_swapped", Severity::Info);
    }
    match said.birth {
        Some(b) if b != claims.birth_date => push(&mut findings, "birth_date_mismatch", Severity::Critical),
        None => push(&mut findings, "birth_date_unreadable", Severity::Major),
        _ => {}
    }
    if let Some(b) = said.birth.or(Some(claims.birth_date)) {
        let adult = b.replace_year(b.year() + i32::from(policy.min_age)).ok();
        if adult.is_none_or(|a| a > today) {
            push(&mut findings, "under_minimum_age", Severity::Critical);
        }
    }
    let claimed = icao_country(&claims.nationality);
    if let (Some(doc), Some(claimed)) = (said.nationality.as_deref(), claimed.as_deref())
        && !doc.is_empty()
        && doc != claimed
    {
        push(&mut findings, "nationality_mismatch", Severity::Major);
    }
    sort(&mut findings);
    out.issuing_state = said.issuing.clone();
    out.nationality = said.nationality.clone();
    out.expiry_date = said.expiry;
    out.name = Some(name);
    out.findings = findings;
    out.document_number = said.number.filter(|n| !n.is_empty());
    out.holder_names = Some((said.given.clone(), said.family.clone())).filter(|(g, f)| !g.is_empty() || !f.is_empty());
    out.birth_date = said.birth;
    out
}

/// The fields the checks use, from either source.
struct Said {
    given: String,
    family: String,
    birth: Option<Date>,
    expiry: Option<Date>,
    number: Option<String>,
    issuing: Option<String>,
    nationality: Option<String>,
}

impl Said {
    fn from_mrz(m: &Mrz) -> Self {
        Self {
            given: m.given_names.clone(),
            family: m.surname.clone(),
            birth: m.birth_date,
            expiry: m.expiry_date,
            number: Some(m.document_number.clone()),
            issuing: Some(m.issuing_state.clone()),
            nationality: Some(m.nationality.clone()),
        }
    }

    fn from_licence(l: &Licence) -> Self {
        Self {
            given: l.given_names().unwrap_or_default(),
            family: l.family_name.clone().unwrap_or_default(),
            birth: l.birth_date,
            expiry: l.expiry_date,
            number: l.document_number.clone(),
            issuing: l.jurisdiction.map(|j| j.country.to_owned()),
            // A licence does not state nationality.
            nationality: None,
        }
    }
}
