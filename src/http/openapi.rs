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
        tokens::RevokeRequest, crate::tokens::verify::Rejection, audit::EventView, audit::HeadView, audit::EventPage,
        audit::Trail, hr::views::RiskSchema, hr::views::SignalSchema,
        review::claim::Claimed, review::decide::ReviewRequest, review::decide::ReviewDone, review::decide::ReviewView,
        review::decide::ClaimView, review::decide::ReviewHistory, review::queue::Queue, review::queue::QueueItem,
        review::queue::PendingView, review::evidence::KeyFrame, review::evidence::KeyFrames, crate::domain::review::ReviewDecision,
        admin::KeyList, admin::CreateKey, admin::CreatedKey, admin::RotatedSecret, admin::ErasureRequest, admin::Erased,
        super::admin_users::UserView, super::admin_users::UserList, super::admin_users::CreateUser, super::admin_users::CreatedUser, crate::storage::ApiKeyInfo)),
    modifiers(&Security),
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

#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[get("/docs")]
pub async fn browser() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(include_str!("../../web/docs.html"))
}
