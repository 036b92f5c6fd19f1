//! The raw twins of the dataset files: TOML as written, each value that can be wrong carrying
//! its byte span so that a problem names its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSourcesFile {
    #[serde(default)]
    pub(super) source: Vec<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) id: Spanned<String>,
    pub(super) title: Spanned<String>,
    pub(super) reference: Spanned<String>,
    pub(super) url: Option<Spanned<String>>,
    pub(super) tier: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNationsFile {
    #[serde(default)]
    pub(super) nations: Vec<Spanned<RawNation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNation {
    pub(super) code: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganizationsFile {
    #[serde(default)]
    pub(super) organization: Vec<Spanned<RawOrganization>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganization {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) parent: Option<Spanned<String>>,
    pub(super) established: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) note: Option<String>,
    #[serde(default)]
    pub(super) members: Vec<Spanned<RawMember>>,
    #[serde(default)]
    pub(super) excluded_by: Vec<Spanned<RawExclusion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExclusion {
    pub(super) organization: Spanned<String>,
    pub(super) attribute: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttribute {
    pub(super) id: Spanned<String>,
    pub(super) from: Spanned<String>,
    pub(super) until: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMember {
    pub(super) nation: Spanned<String>,
    pub(super) from: Spanned<String>,
    pub(super) until: Option<Spanned<String>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) note: Option<String>,
    #[serde(default)]
    pub(super) attributes: Vec<Spanned<RawAttribute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgreementsFile {
    #[serde(default)]
    pub(super) agreement: Vec<Spanned<RawAgreement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgreement {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) binding: Option<bool>,
    pub(super) signed: Option<Spanned<String>>,
    pub(super) in_force: Option<Spanned<String>>,
    pub(super) terminated: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) suspended: Vec<Spanned<RawSuspension>>,
    #[serde(default)]
    pub(super) parties: Vec<Spanned<String>>,
    pub(super) parties_are_members_of: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) accessions: Vec<Spanned<RawAccession>>,
    pub(super) member_dates: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) note: Option<String>,
    #[serde(default)]
    pub(super) clause: Vec<Spanned<RawClause>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuspension {
    pub(super) from: Spanned<String>,
    pub(super) until: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccession {
    pub(super) nation: Spanned<String>,
    pub(super) in_force: Spanned<String>,
    pub(super) qualifier: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClause {
    pub(super) id: Spanned<String>,
    pub(super) alias: Option<Spanned<String>>,
    pub(super) article: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) summary: Spanned<String>,
    #[serde(default)]
    pub(super) protects: Vec<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) max_classification: Option<Spanned<RawPolicyLevel>>,
    #[serde(default)]
    pub(super) domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) caveats: Vec<Spanned<String>>,
    pub(super) caveats_only: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) equivalences: Vec<Spanned<BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicyLevel {
    pub(super) policy: String,
    pub(super) level: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInvocationsFile {
    #[serde(default)]
    pub(super) invocation: Vec<Spanned<RawInvocation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInvocation {
    pub(super) id: Spanned<String>,
    pub(super) clause: Spanned<String>,
    #[serde(default)]
    pub(super) requested_by: Vec<Spanned<String>>,
    pub(super) requested: Spanned<String>,
    pub(super) met: Option<Spanned<String>>,
    pub(super) closed: Option<Spanned<String>>,
    pub(super) summary: Spanned<String>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) note: Option<String>,
}
