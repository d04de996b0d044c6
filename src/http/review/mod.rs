//! Human review over the API: the queue (`GET /v1/review-queue`), claiming a case
//! (`POST /v1/verifications/{id}/claim`), deciding it (`POST /v1/verifications/{id}/review`)
//! and its review history (`GET /v1/verifications/{id}/reviews`). The console uses the same.

pub mod claim;
pub mod decide;
pub mod evidence;
pub mod queue;

use crate::domain::role::Role;

/// Who may claim and decide cases.
pub(crate) const DECIDE: &[Role] = &[Role::Reviewer, Role::Admin];
/// Who may read the queue and the review history.
pub(crate) const READ: &[Role] = &[Role::Reviewer, Role::Admin, Role::Auditor];
