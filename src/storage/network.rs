//! Where candidates connected from (sealed sightings), their device reports (sealed) and
//! the keyed hashes that link a machine or network to other claimed identities.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// At most this many distinct sightings are kept per verification (the first ones).
pub const SIGHTINGS_KEPT: i64 = 50;

/// A keyed hash linking a verification to a machine or network (`kind`: `device`, `ip_prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    pub kind: &'static str,
    pub value_hash: String,
}

/// Other verifications sharing one link under other identities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linked {
    pub kind: &'static str,
    /// In the organisation, newest first.
    pub verifications: Vec<String>,
    /// Distinct other identities among them (all organisations looked at).
    pub identities: usize,
    /// Verifications in other organisations (counted only when cross-organisation matching is on).
    pub other_organisations: usize,
}

impl Store {
    /// Records a sighting once per distinct `info_hash` (and at most `SIGHTINGS_KEPT`).
    /// Returns whether it was new.
    pub async fn record_sighting(
        &self,
        verification: &str,
        info_hash: &str,
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql(
            "INSERT INTO candidate_sightings (verification_id, info_hash, sealed, seen_at) \
             SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM candidate_sightings WHERE verification_id = ?) < ? \
             ON CONFLICT (verification_id, info_hash) DO NOTHING",
        );
        let done = sqlx::query(&q)
            .bind(verification)
            .bind(info_hash)
            .bind(sealed)
            .bind(now.millis())
            .bind(verification)
            .bind(SIGHTINGS_KEPT)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The sealed sightings of a verification, oldest first.
    pub async fn sightings(&self, verification: &str) -> Result<Vec<Vec<u8>>, StorageError> {
        let q =
            self.sql("SELECT sealed FROM candidate_sightings WHERE verification_id = ? ORDER BY seen_at, info_hash");
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.try_get(0).map_err(StorageError::from)).collect()
    }

    /// Stores the latest device report (sealed) and counts it.
    pub async fn put_device_report(
        &self,
        verification: &str,
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<i64, StorageError> {
        let q = self.sql(
            "INSERT INTO device_reports (verification_id, sealed, reports, received_at) VALUES (?, ?, 1, ?) \
             ON CONFLICT (verification_id) DO UPDATE SET sealed = excluded.sealed, \
             reports = device_reports.reports + 1, received_at = excluded.received_at",
        );
        sqlx::query(&q).bind(verification).bind(sealed).bind(now.millis()).execute(&self.pool).await?;
        let q = self.sql("SELECT reports FROM device_reports WHERE verification_id = ?");
        Ok(sqlx::query(&q).bind(verification).fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// The sealed latest device report and how many were sent.
    pub async fn device_report(&self, verification: &str) -> Result<Option<(Vec<u8>, i64)>, StorageError> {
        let q = self.sql("SELECT sealed, reports FROM device_reports WHERE verification_id = ?");
        let row = sqlx::query(&q).bind(verification).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn add_identity_links(
        &self,
        verification: &str,
        org: &str,
        identity_hash: &str,
        links: &[IdentityLink],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO identity_links (verification_id, org_id, kind, value_hash, identity_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (verification_id, kind, value_hash) DO NOTHING",
        );
        for link in links {
            sqlx::query(&q)
                .bind(verification)
                .bind(org)
                .bind(link.kind)
                .bind(&link.value_hash)
                .bind(identity_hash)
                .bind(now.millis())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// For each kind: the newest `limit` other verifications sharing one of `links` under
    /// another identity, in `org` (and counted, not named, in other organisations when
    /// `cross_org`).
    pub async fn linked_under_other_identities(
        &self,
        org: &str,
        verification: &str,
        identity_hash: &str,
        links: &[IdentityLink],
        cross_org: bool,
        limit: i64,
    ) -> Result<Vec<Linked>, StorageError> {
        let scope = if cross_org { "" } else { " AND org_id = ?" };
        let q = self
            .sql(&format!(
                "SELECT verification_id, org_id, identity_hash FROM identity_links WHERE kind = ? AND value_hash = ? \
             AND identity_hash <> ? AND verification_id <> ?{scope} ORDER BY created_at DESC LIMIT ?"
            ))
            .into_owned();
        let mut out: Vec<Linked> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut identities = std::collections::HashSet::new();
        for link in links {
            let mut query =
                sqlx::query(&q).bind(link.kind).bind(&link.value_hash).bind(identity_hash).bind(verification);
            if !cross_org {
                query = query.bind(org);
            }
            let rows = query.bind(limit).fetch_all(&self.pool).await?;
            if !out.iter().any(|l| l.kind == link.kind) {
                out.push(Linked { kind: link.kind, ..Linked::default() });
            }
            let Some(entry) = out.iter_mut().find(|l| l.kind == link.kind) else { continue };
            for row in rows {
                let (id, other_org, identity): (String, String, String) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                if !seen.insert((link.kind, id.clone())) {
                    continue;
                }
                identities.insert((link.kind, identity));
                if other_org == org {
                    entry.verifications.push(id);
                } else {
                    entry.other_organisations += 1;
                }
            }
        }
        for entry in &mut out {
            entry.identities = identities.iter().filter(|(k, _)| *k == entry.kind).count();
        }
        out.retain(|l| l.identities > 0);
        Ok(out)
    }
}

impl Store {
    /// Replaces the intake risk while the candidate is still on the page (before submission;
    /// afterwards the pipeline's risk is the one that counts). Returns whether it was replaced.
    pub async fn update_intake_risk(&self, verification: &str, score: u8, json: &str) -> Result<bool, StorageError> {
        let q = self.sql(
            "UPDATE verifications SET risk_score = ?, risk = ? WHERE id = ? \
             AND status IN ('created', 'consented', 'document_uploaded', 'selfie_uploaded')",
        );
        let done = sqlx::query(&q).bind(i64::from(score)).bind(json).bind(verification).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }
}
