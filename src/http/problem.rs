//! The one place errors become HTTP: RFC 9457 `application/problem+json` with a stable
//! machine-readable `code`. Internal details go to the log (without PII), never the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::claims::ClaimError;

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code (public API: never renamed).
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `Retry-After` when the database cannot be reached.
const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("this key's role may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The path exists, the method does not: `allow` lists the methods it has.
    #[error("this method is not allowed here")]
    MethodNotAllowed { allow: String },
    #[error("the candidate link is invalid, used or expired")]
    CandidateToken,
    #[error("this step is not allowed now")]
    OutOfOrder { status: &'static str },
    #[error("the request body is not valid JSON for this endpoint")]
    MalformedBody(String),
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("a field is invalid")]
    InvalidField(ClaimError),
    #[error("a query parameter is invalid")]
    InvalidQuery(&'static str),
    #[error("the upload is too large")]
    TooLarge { limit: u64 },
    #[error("the upload is not acceptable media")]
    BadMedia { code: &'static str, message: String },
    #[error("the liveness challenge cannot be answered")]
    Challenge { code: &'static str, message: &'static str },
    #[error("the token is revoked already")]
    AlreadyRevoked,
    #[error("the Idempotency-Key was used with a different request")]
    IdempotencyConflict,
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    #[error("the database cannot be reached; try again shortly")]
    Unavailable,
    #[error("the service is busy decoding other uploads")]
    Busy { retry_after_seconds: u64 },
    #[error("no more uploads of this kind for this verification")]
    UploadsExhausted { limit: u32 },
    #[error("another reviewer holds this case")]
    ClaimedByAnother,
    #[error("claim the case before deciding it")]
    ClaimRequired,
    #[error("this case is not waiting for a reviewer")]
    NotReviewable { status: &'static str },
    #[error("a second reviewer must confirm this decision")]
    SecondReviewerRequired,
    #[error("the case changed meanwhile")]
    CaseChanged,
    #[error("the evidence of this case's stages is not available")]
    EvidenceUnavailable,
    #[error("the CSRF token is missing or wrong")]
    Csrf,
    #[error("e-mail, password or authenticator code is wrong")]
    SignInFailed,
    #[error("the account is locked after repeated failures")]
    AccountLocked { retry_after_seconds: u64 },
    #[error("the set-up link is invalid, used or expired")]
    SetupLink,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> String {
        match self {
            Self::Unauthenticated => "unauthenticated".into(),
            Self::Forbidden => "forbidden".into(),
            Self::NotFound => "not_found".into(),
            Self::MethodNotAllowed { .. } => "method_not_allowed".into(),
            Self::CandidateToken => "candidate_token_invalid".into(),
            Self::OutOfOrder { .. } => "step_out_of_order".into(),
            Self::MalformedBody(_) => "malformed_body".into(),
            Self::UnsupportedMediaType => "unsupported_media_type".into(),
            Self::InvalidField(e) => e.rule.into(),
            Self::InvalidQuery(_) => "invalid_query".into(),
            Self::TooLarge { .. } => "upload_too_large".into(),
            Self::BadMedia { code, .. } | Self::Challenge { code, .. } => (*code).into(),
            Self::IdempotencyConflict => "idempotency_conflict".into(),
            Self::AlreadyRevoked => "already_revoked".into(),
            Self::RateLimited { .. } => "rate_limited".into(),
            Self::Busy { .. } => "busy".into(),
            Self::Unavailable => "unavailable".into(),
            Self::UploadsExhausted { .. } => "uploads_exhausted".into(),
            Self::ClaimedByAnother => "claimed_by_another".into(),
            Self::ClaimRequired => "claim_required".into(),
            Self::NotReviewable { .. } => "not_reviewable".into(),
            Self::SecondReviewerRequired => "second_reviewer_required".into(),
            Self::CaseChanged => "case_changed".into(),
            Self::EvidenceUnavailable => "evidence_unavailable".into(),
            Self::Csrf => "csrf_token_invalid".into(),
            Self::SignInFailed => "sign_in_failed".into(),
            Self::AccountLocked { .. } => "account_locked".into(),
            Self::SetupLink => "setup_link_invalid".into(),
            Self::Internal(_) => "internal".into(),
        }
    }

    /// Logs the cause of a 5xx (never PII: causes are storage/engine errors) and hides it.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        if crate::storage::StorageError::unavailable_in(cause) {
            tracing::warn!(error = %crate::cli::error_chain(cause), "database unavailable");
            return Self::Unavailable;
        }
        let chain = crate::cli::error_chain(cause);
        tracing::error!(error = %chain, "internal error");
        Self::Internal(chain)
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::MalformedBody(d) => Some(d.clone()),
            Self::MethodNotAllowed { allow } => Some(format!("allowed: {allow}")),
            Self::OutOfOrder { status } | Self::NotReviewable { status } => {
                Some(format!("the verification is {status}"))
            }
            Self::InvalidQuery(d) => Some((*d).to_owned()),
            Self::TooLarge { limit } => Some(format!("at most {limit} bytes")),
            Self::RateLimited { retry_after_seconds }
            | Self::AccountLocked { retry_after_seconds }
            | Self::Busy { retry_after_seconds } => Some(format!("try again in {retry_after_seconds} s")),
            Self::UploadsExhausted { limit } => Some(format!("at most {limit} per verification")),
            Self::BadMedia { message, .. } => Some(message.clone()),
            Self::Challenge { message, .. } => Some((*message).to_owned()),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::CandidateToken | Self::SignInFailed | Self::SetupLink => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::OutOfOrder { .. }
            | Self::IdempotencyConflict
            | Self::AlreadyRevoked
            | Self::ClaimedByAnother
            | Self::ClaimRequired
            | Self::NotReviewable { .. }
            | Self::SecondReviewerRequired
            | Self::CaseChanged
            | Self::EvidenceUnavailable
            | Self::UploadsExhausted { .. } => StatusCode::CONFLICT,
            Self::MalformedBody(_) | Self::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidField(_) | Self::BadMedia { .. } | Self::Challenge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } | Self::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let code = self.code();
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Self::RateLimited { retry_after_seconds }
        | Self::AccountLocked { retry_after_seconds }
        | Self::Busy { retry_after_seconds } = self
        {
            response.insert_header(("Retry-After", retry_after_seconds.to_string()));
        }
        if let Self::Unavailable = self {
            response.insert_header(("Retry-After", UNAVAILABLE_RETRY_SECONDS.to_string()));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header(("Allow", allow.as_str()));
        }
        response.content_type("application/problem+json").json(Problem {
            kind: format!("/problems/{code}"),
            title: self.to_string(),
            status: status.as_u16(),
            code,
            detail: self.detail(),
            field: match self {
                Self::InvalidField(e) => Some(e.field.clone()),
                _ => None,
            },
        })
    }
}

impl From<crate::review::ReviewError> for ApiError {
    fn from(e: crate::review::ReviewError) -> Self {
        use crate::review::ReviewError as E;
        match e {
            E::NotFound => Self::NotFound,
            E::NotReviewable(status) => Self::NotReviewable { status: status.as_str() },
            E::ClaimedByAnother => Self::ClaimedByAnother,
            E::ClaimRequired => Self::ClaimRequired,
            E::SecondReviewerRequired => Self::SecondReviewerRequired,
            E::CaseChanged => Self::CaseChanged,
            E::EvidenceUnavailable => Self::EvidenceUnavailable,
            E::Storage(e) => Self::internal(&e),
            E::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                Self::Internal(e)
            }
        }
    }
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError as E;
        let field = |field: &str, rule: &'static str| Self::InvalidField(ClaimError { field: field.into(), rule });
        match e {
            E::BadEmail => field("email", "email_address"),
            E::BadRole => field("role", "reviewer_auditor_or_admin"),
            E::Taken | E::NoOrganisation => Self::IdempotencyConflict,
            E::SetupToken => Self::SetupLink,
            E::Password => field("password", "12_to_256_characters"),
            E::Code => field("code", "authenticator_code_wrong"),
            E::SignInFailed => Self::SignInFailed,
            E::Locked { retry_after_seconds } => Self::AccountLocked { retry_after_seconds },
            E::Storage(e) => Self::internal(&e),
            E::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                Self::Internal(e)
            }
        }
    }
}

/// Extractor rejections (JSON, path, query) take the same shape.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::ContentType => ApiError::UnsupportedMediaType.into(),
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => {
            ApiError::TooLarge { limit: limit as u64 }.into()
        }
        E::Deserialize(e) => ApiError::MalformedBody(e.to_string()).into(),
        _ => ApiError::MalformedBody("the body could not be read".into()).into(),
    }
}

pub fn form_error(err: actix_web::error::UrlencodedError) -> actix_web::Error {
    use actix_web::error::UrlencodedError as E;
    match err {
        E::ContentType => ApiError::UnsupportedMediaType.into(),
        E::Overflow { limit, .. } => ApiError::TooLarge { limit: limit as u64 }.into(),
        e => ApiError::MalformedBody(e.to_string()).into(),
    }
}

pub fn path_error(_: actix_web::error::PathError) -> actix_web::Error {
    ApiError::NotFound.into()
}

pub fn query_error(_: actix_web::error::QueryPayloadError) -> actix_web::Error {
    ApiError::InvalidQuery("unknown or malformed query parameter").into()
}
