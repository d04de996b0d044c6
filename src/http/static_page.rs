//! Pages and assets compiled into the binary (the candidate's page, the console), served
//! with their Content-Security-Policy and never cached.

use actix_web::HttpResponse;

/// A page or asset under `csp`, with `permissions` as its Permissions-Policy.
pub fn page(content_type: &str, csp: &'static str, permissions: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", csp))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Permissions-Policy", permissions))
        .body(body)
}
