//! The candidate's web page, `GET /c/{link}`, and its assets, `GET /c/assets/{file}`: plain
//! HTML, CSS and JavaScript compiled into the binary; the page fetches nothing elsewhere
//! (the Content-Security-Policy says so to the browser too).

use actix_web::{HttpResponse, get, web};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
                   media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    crate::http::static_page::page(content_type, CSP, "camera=(self), microphone=(), geolocation=()", body)
}

#[get("/c/assets/{file}")]
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    match file.as_str() {
        "app.js" => page("text/javascript; charset=utf-8", include_str!("../../../web/candidate/app.js")),
        "app.css" => page("text/css; charset=utf-8", include_str!("../../../web/candidate/app.css")),
        "messages.en.json" => {
            page("application/json; charset=utf-8", include_str!("../../../web/candidate/messages.en.json"))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// The page itself; the link's token is read by the script from the address.
#[get("/c/{link}")]
pub async fn index(_link: web::Path<String>) -> HttpResponse {
    page("text/html; charset=utf-8", include_str!("../../../web/candidate/index.html"))
}
