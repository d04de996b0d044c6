//! An organisation's admins manage its console users: list them, create one (its one-time
//! set-up link is in the answer), disable one (their sessions end at once). Audited.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::problem::ApiError;
use crate::accounts::{NewUserPlace, create_user};
use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;

const ADMIN: &[Role] = &[Role::Admin];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: String,
    /// False until the person has set a password and an authenticator.
    pub set_up: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    pub disabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
}

/// The organisation's console users.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin",
    responses((status = 200, body = UserList), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/admin/users")]
pub async fn list_users(ctx: web::Data<Context>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let users = ctx.store.users_of(&caller.org_id).await.map_err(|e| ApiError::internal(&e))?;
    let items = users
        .into_iter()
        .map(|(u, created_at)| UserView {
            set_up: u.password_hash.is_some(),
            id: u.id,
            email: u.email,
            role: u.role,
            locked_until: u.locked_until,
            disabled: u.disabled,
            created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(UserList { items }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    /// reviewer, auditor or admin.
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub id: String,
    /// Send it to the person: it works once, for 72 hours.
    pub setup_link: String,
}

/// Create a console user of the organisation.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = CreateUser,
    responses((status = 201, body = CreatedUser), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "The e-mail is taken"),
        (status = 422, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/admin/users")]
pub async fn create(
    ctx: web::Data<Context>,
    caller: Caller,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let public_url = ctx.settings.public_url();
    let place = NewUserPlace { store: &ctx.store, public_url: &public_url, now: ctx.clock.now() };
    let made = create_user(&place, &caller.org_id, &body.role, &body.email, caller.actor()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedUser { id: made.id, setup_link: made.setup_link }))
}

/// Disable a console user: their sessions end at once, they can no longer sign in.
#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204, description = "Disabled"), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[delete("/v1/admin/users/{id}")]
pub async fn disable(ctx: web::Data<Context>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?.to_string();
    let event = NewEvent::of_org(Kind::UserDisabled, &caller.org_id, caller.actor(), serde_json::json!({ "user": id }));
    let done = ctx
        .store
        .disable_user(&caller.org_id, &id, &event, ctx.clock.now())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if done { Ok(HttpResponse::NoContent().finish()) } else { Err(ApiError::NotFound) }
}
