//! The reviewers' and auditors' console at `/console`: plain HTML, CSS and JavaScript in the
//! binary (nothing fetched elsewhere; a strict Content-Security-Policy), its account
//! endpoints, and the session cookie that lets the page call the same API as an API key.

pub mod account;
pub mod cookie;

use actix_web::{HttpResponse, get, web};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    crate::http::static_page::page(content_type, CSP, "camera=(), microphone=(), geolocation=()", body)
}

#[get("/console/assets/{file}")]
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    match file.as_str() {
        "console.js" => page("text/javascript; charset=utf-8", include_str!("../../../web/console/console.js")),
        "verify.js" => page("text/javascript; charset=utf-8", include_str!("../../../web/console/verify.js")),
        "console.css" => page("text/css; charset=utf-8", include_str!("../../../web/console/console.css")),
        "messages.en.json" => {
            page("application/json; charset=utf-8", include_str!("../../../web/console/messages.en.json"))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// The console page (one page; the script shows sign-in, set-up, queue, case or audit).
#[get("/console")]
pub async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", include_str!("../../../web/console/index.html"))
}

#[get("/console/")]
pub async fn index_slash() -> HttpResponse {
    page("text/html; charset=utf-8", include_str!("../../../web/console/index.html"))
}

#[cfg(test)]
mod tests {
    use crate::domain::review::ReviewDecision;

    // The page offers exactly the reason codes the API takes, each with words.
    #[test]
    fn the_page_offers_every_reason_code_with_words() {
        let messages: serde_json::Value =
            serde_json::from_str(include_str!("../../../web/console/messages.en.json")).unwrap_or_default();
        for decision in ReviewDecision::ALL {
            let offered: Vec<&str> = messages["reasons_by_decision"][decision.as_str()]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(offered, decision.reasons(), "{decision:?}");
            for code in decision.reasons() {
                assert!(messages["reasons"][code].is_string(), "{code} has no words");
            }
        }
    }
}
