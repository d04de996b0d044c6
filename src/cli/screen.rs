//! `idgate screen --given-name G --family-name F [--birth-date YYYY-MM-DD] [--nationality CC]
//! [--json]`: one person against the loaded sanctions lists (the service's `sanctions.dir`).

use clap::Args as ClapArgs;
use idgate_screening::Query;

use super::Failure;
use crate::config::Settings;
use crate::sanctions::Sanctions;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[arg(long)]
    given_name: String,
    #[arg(long)]
    family_name: String,
    /// YYYY-MM-DD.
    #[arg(long)]
    birth_date: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[arg(long)]
    nationality: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(settings: Settings, args: Args) -> Result<(), Failure> {
    let birth_date = args
        .birth_date
        .as_deref()
        .map(|d| {
            time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE)
                .map(|d| (d.year(), u8::from(d.month()), d.day()))
                .map_err(|_| Failure::bad_input("--birth-date must be YYYY-MM-DD"))
        })
        .transpose()?;
    let nationality = args.nationality.map(|n| n.to_ascii_uppercase());
    if nationality.as_deref().is_some_and(|n| isocountry::CountryCode::for_alpha2(n).is_err()) {
        return Err(Failure::bad_input("--nationality must be an ISO 3166-1 alpha-2 code"));
    }
    if args.given_name.trim().is_empty() && args.family_name.trim().is_empty() {
        return Err(Failure::bad_input("a name is required"));
    }
    let sanctions = Sanctions::load(&settings.sanctions_dir(), settings.sanctions.thresholds())
        .map_err(|e| Failure::internal(e.to_string()))?;
    if sanctions.lists.is_empty() {
        return Err(Failure::internal(format!(
            "no sanctions lists in {} (idgate lists import --format … PATH)",
            settings.sanctions_dir().display()
        )));
    }
    let query = Query { given_name: args.given_name, family_name: args.family_name, birth_date, nationality };
    let matches = sanctions.screener.screen(&query);
    let review_threshold = sanctions.screener.thresholds.review;
    if args.json {
        let lists: Vec<_> = sanctions
            .lists
            .iter()
            .map(|(m, imported)| serde_json::json!({ "name": m.name, "published": m.published, "sha256": m.sha256, "imported_at": imported }))
            .collect();
        let matches: Vec<_> = matches
            .iter()
            .map(|m| {
                serde_json::json!({
                    "list": m.list, "entry_id": m.entry_id, "name": m.name, "programs": m.programs,
                    "score": m.score, "review": m.review, "agreed": m.agreed, "disagreed": m.disagreed,
                })
            })
            .collect();
        outln!("{}", serde_json::json!({ "review_threshold": review_threshold, "matches": matches, "lists": lists }));
        return Ok(());
    }
    if matches.is_empty() {
        outln!("no match at or above {} (review at {review_threshold})", sanctions.screener.thresholds.report);
    }
    for m in &matches {
        let flag = if m.review { "REVIEW" } else { "below review" };
        outln!(
            "{:>3}  {flag:<12} {} {} {:?}  {}  agreed {:?}",
            m.score,
            m.list,
            m.entry_id,
            m.name,
            m.programs.join(","),
            m.agreed
        );
    }
    Ok(())
}
