//! Building the HTTP application: bind first (port 0 allowed), so that the settings carry the
//! real address before anything (links, the token issuer) is derived from them; then run.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::config::Settings;
use crate::context::Context;
use crate::http::{
    admin, admin_users, audit, audit_pack, auth, candidate, console, health, hr, methods, openapi, problem, review,
    tokens,
};

pub struct Application {
    port: u16,
    server: Server,
}

/// Largest JSON body accepted (claims with education entries fit easily).
const JSON_LIMIT: usize = 64 * 1024;

/// Registers every route and the shared state on an actix `App`.
pub fn configure(ctx: Context) -> impl Fn(&mut web::ServiceConfig) + Clone {
    let ctx = web::Data::new(ctx);
    let keys = web::Data::new(auth::KeyCache::default());
    let sign_in_limits = web::Data::new(console::account::SignInLimits::default());
    let request_limits = web::Data::new(crate::http::limits::RequestLimits::new(&ctx.settings.server.rate_limits));
    let routes = web::Data::new(methods::Routes::from_openapi(&<openapi::ApiDoc as utoipa::OpenApi>::openapi()));
    let document = web::Data::new(openapi::Served(openapi::served(&ctx.settings.candidate.consent_version)));
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(ctx.clone())
            .app_data(request_limits.clone())
            .app_data(keys.clone())
            .app_data(sign_in_limits.clone())
            .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(|e, _| problem::json_error(e)))
            .app_data(web::PathConfig::default().error_handler(|e, _| problem::path_error(e)))
            .app_data(web::FormConfig::default().limit(JSON_LIMIT).error_handler(|e, _| problem::form_error(e)))
            .app_data(web::QueryConfig::default().error_handler(|e, _| problem::query_error(e)))
            .app_data(web::PayloadConfig::default().limit(ctx.settings.uploads.max_selfie_bytes as usize))
            .service(health::healthz)
            .service(health::readyz)
            .service(health::metrics)
            .service(openapi::document)
            .service(openapi::browser)
            .service(hr::verifications::create)
            .service(hr::verifications::list)
            .service(hr::verifications::get_one)
            .service(candidate::page::asset)
            .service(candidate::page::index)
            .service(candidate::session::session)
            .service(candidate::session::consent)
            .service(candidate::device::device)
            .service(candidate::session::document)
            .service(candidate::challenge::issue)
            .service(candidate::preview::preview)
            .service(candidate::session::selfie)
            .service(candidate::session::submit)
            .service(console::index)
            .service(console::index_slash)
            .service(console::asset)
            .service(console::account::setup_start)
            .service(console::account::setup_finish)
            .service(console::account::sign_in)
            .service(console::account::sign_out)
            .service(console::account::me)
            .service(admin::list_keys)
            .service(admin::create_key)
            .service(admin::revoke_key)
            .service(admin::rotate_webhook_secret)
            .service(admin::erase)
            .service(admin_users::list_users)
            .service(admin_users::create)
            .service(admin_users::disable)
            .service(review::queue::queue)
            .service(review::claim::claim)
            .service(review::claim::release)
            .service(review::decide::review)
            .service(review::decide::history)
            .service(review::evidence::claims)
            .service(review::evidence::document_photo)
            .service(review::evidence::frame_list)
            .service(review::evidence::frame)
            .service(tokens::jwks)
            .service(tokens::discovery)
            .service(tokens::offer_gate)
            .service(tokens::introspect)
            .service(tokens::revoke)
            .service(audit::events)
            .service(audit::tree_head)
            .service(audit::trail)
            .service(audit::consistency)
            .service(audit::export)
            .service(audit_pack::evidence_pack)
            .service(audit::audit_keys)
            .service(audit::public_heads)
            .app_data(routes.clone())
            .app_data(document.clone())
            .default_service(web::to(unrouted));
    }
}

/// No route took the request: 405 with `Allow` when the path is served with other methods,
/// otherwise 404.
async fn unrouted(
    req: actix_web::HttpRequest,
    routes: web::Data<methods::Routes>,
) -> Result<actix_web::HttpResponse, problem::ApiError> {
    match routes.allowed(req.path()) {
        Some(allow) => Err(problem::ApiError::MethodNotAllowed { allow }),
        None => Err(problem::ApiError::NotFound),
    }
}

/// Binds `settings.server.bind` and writes the address actually bound back into it (the real
/// port when 0 was asked for): without `candidate.public_url`, links follow it.
pub fn bind(settings: &mut Settings) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(settings.server.bind)?;
    settings.server.bind = listener.local_addr()?;
    Ok(listener)
}

impl Application {
    /// Prepares the server on a listener from `bind`.
    pub fn build(ctx: Context, listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let routes = configure(ctx);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::http::limits::limit))
                .wrap(actix_web::middleware::from_fn(crate::http::trace::trace))
                .configure(routes.clone())
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound (the real one when 0 was asked for).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
