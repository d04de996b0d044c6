//! The OpenAPI 3.1 document, generated from the handlers' annotations, and a small browser
//! for it at `/docs` (plain HTML and JavaScript shipped in the binary; nothing fetched).

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, audit, candidate, health, hr, problem, review, tokens};

#[derive(OpenApi)]
#[openapi(
    info(title = "idgate", description = "Identity verification for remote hiring: HR API and candidate steps. \
        Errors are RFC 9457 problem+json with a stable `code`."),
    paths(
        health::healthz, health::readyz, health::metrics,
        hr::verifications::create, hr::verifications::get_one, hr::verifications::list,
        candidate::session::session, candidate::session::consent, candidate::device::device, candidate::session::document,
        candidate::challenge::issue, candidate::preview::preview, candidate::session::selfie, candidate::session::submit,
        tokens::jwks, tokens::discovery, tokens::offer_gate, tokens::introspect, tokens::revoke,
        audit::events, audit::tree_head, audit::trail, audit::consistency, audit::export, audit::audit_keys, audit::public_heads, super::audit_pack::evidence_pack,
        admin::list_keys, admin::create_key, admin::revoke_key, admin::rotate_webhook_secret, admin::erase,
        super::admin_users::list_users, super::admin_users::create, super::admin_users::disable,
        review::queue::queue, review::claim::claim, review::claim::release, review::decide::review, review::decide::history,
        review::evidence::claims, review::evidence::document_photo, review::evidence::frame_list, review::evidence::frame,
    ),
    components(schemas(problem::Problem, hr::verifications::CreateVerification, hr::verifications::Created,
        hr::verifications::Page, candidate::session::SessionView, candidate::session::StepDone, candidate::challenge::ChallengeView, candidate::readable::Readability, candidate::preview::Guidance,
        crate::domain::challenge::Action, crate::domain::challenge::Timing, crate::pipeline::liveness::injection::CaptureReport,
        candidate::session::ConsentRequest, tokens::OfferGateRequest, tokens::OfferGateAnswer,
        tokens::RevokeRequest, tokens::IntrospectionRequest, crate::domain::claims::RawClaims, crate::domain::claims::Education,
        candidate::session::Side, crate::domain::verification::Status, crate::audit::event::Kind, audit::DecisionName, admin::KeyRole, crate::tokens::verify::Rejection, audit::EventView, audit::HeadView, audit::EventPage,
        audit::Trail, hr::views::RiskSchema, hr::views::SignalSchema,
        review::claim::Claimed, review::decide::ReviewRequest, review::decide::ReviewDone, review::decide::ReviewView,
        review::decide::ClaimView, review::decide::ReviewHistory, review::queue::Queue, review::queue::QueueItem,
        review::queue::PendingView, review::evidence::KeyFrame, review::evidence::KeyFrames, crate::domain::review::ReviewDecision,
        admin::KeyList, admin::CreateKey, admin::CreatedKey, admin::RotatedSecret, admin::ErasureRequest, admin::Erased,
        super::admin_users::UserView, super::admin_users::UserList, super::admin_users::CreateUser, super::admin_users::CreatedUser, crate::storage::ApiKeyInfo)),
    modifiers(&Security, &Problems),
    tags((name = "hr", description = "For HR systems, with an API key"),
         (name = "candidate", description = "For the candidate, with the link's token"),
         (name = "tokens", description = "Verification tokens: JWKS, offer gate, introspection, revocation"),
         (name = "audit", description = "The tamper-evident audit log, for auditors"),
         (name = "admin", description = "An organisation's API keys and webhook secret, for its admins"),
         (name = "review", description = "Human review: the queue, claims and decisions, for reviewers"),
         (name = "operations", description = "Health, readiness and metrics"))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build(),
            )
        };
        components.add_security_scheme("api_key", bearer("An HR API key: `idg_XXXXXXXX_…` (`idgate apikey create`)."));
        components.add_security_scheme(
            "candidate_token",
            bearer("The token from the candidate link; each step returns the next one."),
        );
    }
}

/// The error responses every operation shares, because middleware and extractors answer
/// them before a handler runs, documented in one place: `429` (rate limits), `401`/`403`
/// (credentials and roles), `400`/`413`/`415` (bodies and queries), `404` (unknown ids),
/// `503` (busy or the database unreachable) and `500`. Every error is RFC 9457
/// `application/problem+json` with the `Problem` schema.
struct Problems;

/// Served without rate limits or database (see `http::limits`).
const OPERATIONS_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

impl Modify for Problems {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            let operations_path = OPERATIONS_PATHS.contains(&path.as_str());
            let item_params = item.parameters.clone().unwrap_or_default();
            for operation in
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
            {
                shared_errors(operation, &item_params, operations_path);
            }
        }
    }
}

fn shared_errors(
    operation: &mut utoipa::openapi::path::Operation,
    item_params: &[utoipa::openapi::path::Parameter],
    operations_path: bool,
) {
    use utoipa::openapi::path::ParameterIn;
    let schemes: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| value.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
        .flatten()
        .collect();
    let params: Vec<&utoipa::openapi::path::Parameter> =
        operation.parameters.iter().flatten().chain(item_params).collect();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);

    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if !schemes.is_empty() {
        wanted.push((
            "401",
            "Missing, unknown, expired or revoked credentials (`unauthenticated`, `candidate_token_invalid`)",
        ));
    }
    if schemes.iter().any(|s| s == "api_key") {
        wanted.push(("403", "The key's role may not do this (`forbidden`)"));
    }
    if operation.request_body.is_some() || has(ParameterIn::Query) {
        wanted.push(("400", "The body or a query parameter cannot be read (`malformed_body`, `invalid_query`)"));
    }
    if operation.request_body.is_some() {
        wanted.push(("413", "The body is larger than allowed (`upload_too_large`)"));
        wanted.push(("415", "The body is missing or has another content type (`unsupported_media_type`)"));
    }
    if has(ParameterIn::Path) {
        wanted.push(("404", "No such resource for this caller (`not_found`)"));
    }
    if !operations_path {
        wanted.push(("429", "Too many requests from this client, key or link (`rate_limited`); see `Retry-After`"));
        wanted.push(("503", "Busy, or the database is unreachable (`busy`, `unavailable`); see `Retry-After`"));
    }
    wanted.push(("500", "An internal error (`internal`); the details are in the service's log"));

    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let (true, utoipa::openapi::RefOr::T(response)) = (is_error(status), response)
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert("application/problem+json".into(), content);
        }
    }
    for (status, description) in wanted {
        responses.entry(status.into()).or_insert_with(|| problem_response(status, description).into());
    }
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5') || status == "default"
}

fn problem_response(status: &str, description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Object, Ref, ResponseBuilder, Type, header::Header};
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let mut response = ResponseBuilder::new().description(description).content("application/problem+json", content);
    if status == "429" || status == "503" {
        let mut header = Header::new(Object::with_type(Type::Integer));
        header.description = Some("Seconds to wait before trying again".into());
        response = response.header("Retry-After", header);
    }
    response.build()
}

#[get("/openapi.json")]
pub async fn document(doc: actix_web::web::Data<Served>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

/// The served document, made once at start-up (`startup::configure`).
pub struct Served(pub serde_json::Value);

/// The document as served: with what only this deployment or a data table knows, so that a
/// request the schema allows is one the service takes: the consent version it asks for, and
/// the country codes it knows (those of the phone-number metadata).
pub fn served(consent_version: &str) -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let schemas = "/components/schemas";
    let mut set = |pointer: &str, key: &str, value: serde_json::Value| {
        if let Some(serde_json::Value::Object(schema)) = doc.pointer_mut(&format!("{schemas}{pointer}")) {
            schema.insert(key.into(), value);
        }
    };
    set("/ConsentRequest/properties/consent_version", "enum", serde_json::json!([consent_version]));
    set("/ConsentRequest/properties/accepted", "enum", serde_json::json!([true]));
    let countries = country_codes();
    set("/RawClaims/properties/nationality", "enum", serde_json::json!(countries));
    set("/RawClaims/properties/residence_country", "enum", serde_json::json!(countries));
    let mut optional: Vec<serde_json::Value> = countries.iter().map(|c| serde_json::json!(c)).collect();
    optional.push(serde_json::Value::Null);
    set("/Education/properties/country", "enum", serde_json::Value::Array(optional));
    doc
}

/// ISO 3166-1 alpha-2 codes the claims accept (`domain::claims::Country`).
fn country_codes() -> Vec<String> {
    let letters = b'A'..=b'Z';
    letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| String::from_utf8_lossy(&[a, b]).into_owned()))
        .filter(|code| crate::domain::claims::Country::parse(code, "country").is_ok())
        .collect()
}

#[get("/docs")]
pub async fn browser() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(include_str!("../../web/docs.html"))
}
