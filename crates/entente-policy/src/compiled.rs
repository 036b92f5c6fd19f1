//! The compiled release policy: the registry's agreements and memberships flattened into tables
//! that answer a decision in a few hundred nanoseconds, with no allocation on the permit path.

use std::collections::HashMap;
use std::sync::Arc;

use entente_labels::{DefaultRelease, Label, LabelError, PolicySet, ReleaseToken};
use entente_registry::{ClauseKind, Interval, Party, Registry, Role};
use entente_types::{Date, NationCode};

use crate::decision::{CoveringClause, Decision, Reason, Verdict};

/// A national release rule engine: may forbid a release the agreements allow. A nation can always
/// be stricter than its agreements, never looser.
pub trait NationalRules: Send + Sync {
    /// `Ok(Some(rule id))` if a rule of `originator` forbids releasing `label` to `recipient` on
    /// `day`; `Err` if the rules could not be evaluated (the release is then denied).
    fn forbids(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Option<String>, RulesError>;

    /// Whether `nation` has any rule at all (lets the fast path skip the engine).
    fn has_rules_for(&self, nation: NationCode) -> bool;
}

/// Why a nation's release rules could not be evaluated. The release is then denied: an erroring
/// rule is never skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The label has more "Releasable To" sets than the rule engine is given.
    #[error("more than {limit} Releasable To sets")]
    TooManyReleaseSets {
        /// The most sets a label may have.
        limit: usize,
    },
    /// The label, the nations or the day could not be put in the rule engine's terms.
    #[error("{0}")]
    Request(String),
    /// The engine reported errors while evaluating the rules; every one is listed.
    #[error("{}", .0.join("; "))]
    Evaluation(Vec<String>),
}

/// A "Releasable To" value that names neither a nation nor a group the registry knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Releasable To value {token:?} is neither a known nation nor a known group")]
pub struct UnknownReleaseToken {
    /// The value as written in the label.
    pub token: String,
}

/// A person's clearance: a classification ceiling under one policy, and the caveats they hold.
#[derive(Debug, Clone, Copy)]
pub struct Clearance<'a> {
    pub policy: &'a str,
    pub level: &'a str,
    pub caveats: &'a [String],
}

/// An organisation's memberships, sorted by nation, and by the dense index of each nation
/// ([`ReleasePolicy::nation_ix`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Members {
    pub(crate) periods: Vec<(NationCode, Interval)>,
    by_ix: Vec<Vec<Interval>>,
}

impl Members {
    /// Whether the nation of dense index `ix` is a member on `day` (a nation without an index is
    /// a member of nothing).
    pub(crate) fn contains(&self, ix: Option<usize>, day: Date) -> bool {
        ix.and_then(|i| self.by_ix.get(i))
            .is_some_and(|periods| periods.iter().any(|p| p.contains(day)))
    }
}

/// A party to an agreement, as the two ends of an exchange must be two different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Nation(NationCode),
    Organization(usize),
}

/// Packs a token, nation code or policy id of 1 to 16 bytes, the last of them not zero, into
/// one integer (never 0; the padding is zeros, so two such texts share one only if equal);
/// `None` for any other text ("Releasable To" values are 2 to 16 ASCII capitals, digits and
/// '-'). A text with a zero byte inside packs to a key no table holds: tables are built from
/// texts without one.
pub(crate) fn token_key(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    let key = u128::from_le_bytes(buf);
    // The highest non-zero byte is the last: no trailing zero was absorbed by the padding.
    let len = 16 - (key.leading_zeros() / 8) as usize;
    (len == bytes.len() && len > 0).then_some(key)
}

/// The key of a nation code, as [`token_key`] packs its text.
fn nation_key(nation: NationCode) -> u128 {
    let [a, b, c] = nation.bytes();
    u128::from(u32::from_le_bytes([a, b, c, 0]))
}

/// Whether a text holds a zero byte (such texts are kept out of the tables).
fn has_zero(text: &str) -> bool {
    text.as_bytes().contains(&0)
}

/// A fixed table from packed keys ([`token_key`]) to values: open addressing, linear probing,
/// at most a quarter full, so a lookup is a multiplication and one or two comparisons.
#[derive(Debug, Clone)]
pub(crate) struct KeyTable<V> {
    keys: Vec<u128>,
    values: Vec<Option<V>>,
    shift: u32,
}

impl<V: Copy> KeyTable<V> {
    /// The table of `entries`; of two equal keys the first is kept.
    fn new(entries: &[(u128, V)]) -> KeyTable<V> {
        let size = (entries.len() * 4).next_power_of_two().max(8);
        let mut table = KeyTable {
            keys: vec![0; size],
            values: vec![None; size],
            shift: 64 - size.trailing_zeros(),
        };
        for &(key, value) in entries {
            let mut i = table.slot(key);
            loop {
                if table.keys[i] == key {
                    break;
                }
                if table.keys[i] == 0 {
                    table.keys[i] = key;
                    table.values[i] = Some(value);
                    break;
                }
                i = (i + 1) & (size - 1);
            }
        }
        table
    }

    fn slot(&self, key: u128) -> usize {
        let folded = (key as u64) ^ ((key >> 64) as u64);
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn get(&self, key: u128) -> Option<V> {
        let mask = self.keys.len() - 1;
        let mut i = self.slot(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return self.values[i];
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// What a "Releasable To" token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// An organisation of the registry (index into `members`): its members on the day.
    Group(usize),
    /// A nation of the registry.
    Nation(NationCode),
}

/// Sets bit `i` of a bitset.
fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// One security-of-information clause, flattened.
#[derive(Debug, Clone)]
pub(crate) struct Cover {
    /// What a permit under this clause names, shared by every such permit.
    pub(crate) covering: Arc<CoveringClause>,
    pub(crate) force: Interval,
    pub(crate) suspended: Vec<Interval>,
    pub(crate) nation_parties: Vec<NationCode>,
    /// `nation_parties` as a bitset over the nations' dense indexes.
    party_bits: Vec<u64>,
    /// `accessions` by the nations' dense indexes (empty when there are none).
    accession_ix: Vec<Option<Date>>,
    /// Organisations named as parties: they act for their members, for their own policy's information.
    pub(crate) org_parties: Vec<usize>,
    /// Members of this organisation are parties.
    pub(crate) member_org: Option<usize>,
    /// Nations whose own entry into force is later.
    pub(crate) accessions: Vec<(NationCode, Date)>,
    /// Policy index → highest rank covered.
    pub(crate) ceilings: Vec<(usize, u8)>,
    pub(crate) caveats: Vec<String>,
    /// The clause covers only labels carrying at least one of `caveats`.
    pub(crate) caveats_only: bool,
}

/// The compiled policy: what the registry and the classification policies say, ready to decide.
pub struct ReleasePolicy {
    pub(crate) policies: PolicySet,
    /// Policy id → index, and per index the organisation of its default release.
    pub(crate) policy_index: HashMap<String, usize>,
    pub(crate) policy_default: Vec<Option<usize>>,
    /// Organisation id (a group token) → index into `members`.
    pub(crate) groups: HashMap<String, usize>,
    pub(crate) group_names: Vec<String>,
    pub(crate) members: Vec<Members>,
    pub(crate) nations: Vec<NationCode>,
    pub(crate) covers: Vec<Cover>,
    /// Per organisation, the index of the policy of the same id (an organisation named as a party
    /// acts for its members for its own policy's information only).
    pub(crate) group_policy: Vec<Option<usize>>,
    /// Every token a "Releasable To" may hold and what it names, by packed bytes.
    pub(crate) tokens: KeyTable<Token>,
    /// Policy ids by packed bytes, with their index (a handful: scanned in order).
    pub(crate) policy_keys: Vec<(u128, usize)>,
    /// Every nation of the registry, a member or a party, by packed code: its dense index.
    pub(crate) nation_ix: KeyTable<usize>,
    /// The security clauses a decision may rest on, as bitsets over `covers`: per nation (by
    /// dense index) those under which it may ever stand as a party, per policy those with a
    /// ceiling for it. A clause outside both nations' sets and the policy's cannot cover a
    /// decision.
    pub(crate) nation_covers: Vec<Vec<u64>>,
    pub(crate) policy_covers: Vec<Vec<u64>>,
    /// Per nation, the clauses under which it may stand as itself (a named party, or a member
    /// of the organisation whose members are the parties); per policy, the clauses under which
    /// two or more organisations act for their members. A clause in neither nation's set nor the
    /// policy's gives each nation at most the one organisation acting for the policy, the same
    /// for both: it cannot cover a decision between them.
    pub(crate) self_covers: Vec<Vec<u64>>,
    pub(crate) multi_org_covers: Vec<Vec<u64>>,
    pub(crate) national_rules: Option<Box<dyn NationalRules>>,
    /// Marking definitions already built, by label (see [`MarkingMemo`]).
    pub(crate) marking_memo: MarkingMemo,
    /// The label an object posted without one is stored under (`stored.rs`).
    pub(crate) default_label: Option<Label>,
}

/// The most marking definitions remembered; past it the memo starts again (labels are few in
/// practice: a node serves the same handful on most objects).
const MARKING_MEMO_CAPACITY: usize = 4096;

/// Marking definitions by label. Building one costs a canonical serialisation and a hash; it is a
/// pure function of the label and the policies, so it is done once per label, not per object.
#[derive(Default)]
pub(crate) struct MarkingMemo(
    std::sync::RwLock<
        HashMap<Label, std::sync::Arc<serde_json::Value>, foldhash::fast::RandomState>,
    >,
);

impl MarkingMemo {
    pub(crate) fn get_or_build(
        &self,
        policies: &PolicySet,
        label: &Label,
    ) -> Result<std::sync::Arc<serde_json::Value>, entente_labels::LabelError> {
        if let Some(m) = self.0.read().ok().and_then(|m| m.get(label).cloned()) {
            return Ok(m);
        }
        let built = std::sync::Arc::new(entente_labels::stix::to_marking_definition(
            policies, label,
        )?);
        if let Ok(mut memo) = self.0.write() {
            if memo.len() >= MARKING_MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(label.clone(), built.clone());
        }
        Ok(built)
    }
}

impl ReleasePolicy {
    /// Compiles the registry's memberships and security-of-information clauses.
    pub fn new(registry: &Registry, policies: PolicySet) -> ReleasePolicy {
        let mut groups = HashMap::new();
        let mut group_names = Vec::new();
        let mut members = Vec::new();
        for org in registry.organizations() {
            let mut periods: Vec<(NationCode, Interval)> = org
                .memberships
                .iter()
                .filter(|m| m.role == Role::Member)
                .map(|m| (m.nation, m.period))
                .collect();
            periods.sort();
            groups.insert(org.id.0.clone(), members.len());
            group_names.push(org.id.0.clone());
            members.push(Members {
                periods,
                by_ix: Vec::new(),
            });
        }
        let policy_ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
        let policy_index: HashMap<String, usize> = policy_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let policy_default = policies
            .iter()
            .map(|p| match &p.default_release {
                DefaultRelease::MembersOf(org) => groups.get(org).copied(),
                DefaultRelease::OriginatorOnly => None,
            })
            .collect();
        let mut covers = Vec::new();
        for a in registry.agreements() {
            let Some(force) = a.force_period() else {
                continue;
            };
            for c in a
                .clauses
                .iter()
                .filter(|c| c.kind == ClauseKind::SecurityOfInformation)
            {
                let security = c.security.clone().unwrap_or_default();
                let nation_parties: Vec<NationCode> = a
                    .parties
                    .iter()
                    .filter_map(|p| match p {
                        Party::Nation(n) => Some(*n),
                        Party::Organization(_) => None,
                    })
                    .collect();
                let org_parties: Vec<usize> = a
                    .parties
                    .iter()
                    .filter_map(|p| match p {
                        Party::Organization(o) => groups.get(&o.0).copied(),
                        Party::Nation(_) => None,
                    })
                    .collect();
                let member_org = a
                    .parties_are_members_of
                    .as_ref()
                    .and_then(|o| groups.get(&o.0).copied());
                let mut ceilings = Vec::new();
                match &security.max_classification {
                    Some(max) => {
                        if let (Some(&i), Some(p)) =
                            (policy_index.get(&max.policy), policies.get(&max.policy))
                        {
                            if let Some(rank) = p.rank_of(&max.level) {
                                ceilings.push((i, rank));
                            }
                        }
                    }
                    None => {
                        // No ceiling stated: the clause covers the parties' own policies at every level.
                        let mut covered: Vec<String> =
                            nation_parties.iter().map(|n| n.to_string()).collect();
                        covered.extend(org_parties.iter().map(|&o| group_names[o].clone()));
                        covered.extend(member_org.map(|o| group_names[o].clone()));
                        for id in covered {
                            if let (Some(&i), Some(p)) = (policy_index.get(&id), policies.get(&id))
                            {
                                let top =
                                    u8::try_from(p.levels.len().saturating_sub(1)).unwrap_or(0);
                                ceilings.push((i, top));
                            }
                        }
                    }
                }
                covers.push(Cover {
                    covering: Arc::new(CoveringClause {
                        agreement: a.id.0.clone(),
                        agreement_name: a.name.clone(),
                        clause: c.id.clone(),
                        article: c.article.clone(),
                    }),
                    force,
                    suspended: a.suspended.clone(),
                    nation_parties,
                    party_bits: Vec::new(),
                    accession_ix: Vec::new(),
                    org_parties,
                    member_org,
                    accessions: a
                        .accessions
                        .iter()
                        .map(|(n, d)| (*n, d.earliest_certain_start()))
                        .collect(),
                    ceilings,
                    caveats: security.caveats.clone(),
                    caveats_only: security.caveats_only,
                });
            }
        }
        covers.sort_by(|x, y| {
            let (x, y) = (&x.covering, &y.covering);
            (&x.agreement, &x.clause).cmp(&(&y.agreement, &y.clause))
        });
        let nations: Vec<NationCode> = registry.nations().map(|n| n.code).collect();
        let group_policy: Vec<Option<usize>> = group_names
            .iter()
            .map(|g| policy_index.get(g).copied())
            .collect();
        // Tokens: groups first (the first of two equal keys is kept), as the decision resolved
        // them before nations.
        let mut tokens: Vec<(u128, Token)> = groups
            .iter()
            .filter(|(name, _)| !has_zero(name))
            .filter_map(|(name, &g)| token_key(name).map(|k| (k, Token::Group(g))))
            .collect();
        tokens.extend(nations.iter().map(|&n| (nation_key(n), Token::Nation(n))));
        let policy_keys = policy_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !has_zero(id))
            .filter_map(|(i, id)| token_key(id).map(|k| (k, i)))
            .collect();
        // Dense indexes of every nation a decision may meet: of the registry, members, parties.
        let mut known: Vec<NationCode> = nations.clone();
        known.extend(
            members
                .iter()
                .flat_map(|m| m.periods.iter().map(|(n, _)| *n)),
        );
        known.extend(covers.iter().flat_map(|c| c.nation_parties.iter().copied()));
        known.sort_unstable();
        known.dedup();
        let ix_entries: Vec<(u128, usize)> = known
            .iter()
            .enumerate()
            .map(|(i, n)| (nation_key(*n), i))
            .collect();
        let nation_ix = KeyTable::new(&ix_entries);
        let ix_of = |n: NationCode| nation_ix.get(nation_key(n));
        for m in &mut members {
            m.by_ix = vec![Vec::new(); known.len()];
            for (n, p) in &m.periods {
                if let Some(i) = ix_of(*n) {
                    m.by_ix[i].push(*p);
                }
            }
        }
        for cover in &mut covers {
            cover.party_bits = vec![0u64; known.len().div_ceil(64)];
            for &n in &cover.nation_parties {
                if let Some(x) = ix_of(n) {
                    set_bit(&mut cover.party_bits, x);
                }
            }
            if !cover.accessions.is_empty() {
                cover.accession_ix = vec![None; known.len()];
                // The first entry of a nation is the one that counts, as `sides` read them.
                for &(n, from) in cover.accessions.iter().rev() {
                    if let Some(x) = ix_of(n) {
                        cover.accession_ix[x] = Some(from);
                    }
                }
            }
        }
        let words = covers.len().div_ceil(64);
        let mut nation_covers = vec![vec![0u64; words]; known.len()];
        let mut self_covers = vec![vec![0u64; words]; known.len()];
        let mut policy_covers = vec![vec![0u64; words]; policy_ids.len()];
        let mut multi_org_covers = vec![vec![0u64; words]; policy_ids.len()];
        for (i, cover) in covers.iter().enumerate() {
            let mut mark = |n: NationCode, as_itself: bool| {
                if let Some(x) = ix_of(n) {
                    set_bit(&mut nation_covers[x], i);
                    if as_itself {
                        set_bit(&mut self_covers[x], i);
                    }
                }
            };
            cover.nation_parties.iter().for_each(|&n| mark(n, true));
            if let Some(org) = cover.member_org {
                members[org]
                    .periods
                    .iter()
                    .for_each(|(n, _)| mark(*n, true));
            }
            for &org in &cover.org_parties {
                members[org]
                    .periods
                    .iter()
                    .for_each(|(n, _)| mark(*n, false));
            }
            for &(p, _) in &cover.ceilings {
                set_bit(&mut policy_covers[p], i);
                let acting = cover
                    .org_parties
                    .iter()
                    .filter(|&&org| group_policy[org] == Some(p))
                    .count();
                if acting >= 2 {
                    set_bit(&mut multi_org_covers[p], i);
                }
            }
        }
        ReleasePolicy {
            policies,
            policy_index,
            policy_default,
            groups,
            group_names,
            members,
            nations,
            covers,
            group_policy,
            tokens: KeyTable::new(&tokens),
            policy_keys,
            nation_ix,
            nation_covers,
            policy_covers,
            self_covers,
            multi_org_covers,
            national_rules: None,
            marking_memo: MarkingMemo::default(),
            default_label: None,
        }
    }

    /// Adds national release rules, evaluated after the agreements.
    pub fn with_national_rules(mut self, rules: Box<dyn NationalRules>) -> ReleasePolicy {
        self.national_rules = Some(rules);
        self
    }

    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The group tokens a "Releasable To" may name (organisations of the registry, e.g. `NATO`),
    /// sorted.
    pub fn group_tokens(&self) -> Vec<&str> {
        let mut tokens: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        tokens.sort_unstable();
        tokens
    }

    /// The nations of the registry, sorted.
    pub fn nations(&self) -> &[NationCode] {
        &self.nations
    }

    /// Whether a "Releasable To" token is a known nation or group.
    pub fn knows_token(&self, token: &str) -> bool {
        self.resolve_token(token).is_some()
    }

    fn known_nation(&self, token: &str) -> Option<NationCode> {
        let nation = token.parse::<NationCode>().ok()?;
        // Nations come from the registry's sorted map.
        self.nations.binary_search(&nation).ok().map(|_| nation)
    }

    /// Checks that every "Releasable To" value of `label` is a known nation or group.
    pub fn check_release_tokens(&self, label: &Label) -> Result<(), UnknownReleaseToken> {
        for set in label.releasable_to() {
            for token in set {
                if !self.knows_token(token.as_str()) {
                    return Err(UnknownReleaseToken {
                        token: token.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The dominant label of `a` and `b` (`Label::dominate`), keeping the default release of a
    /// label that names no "Releasable To": dominated with one that names a set, it would
    /// otherwise lose its policy's default (NATO members, or nobody beyond the originator) and
    /// widen the release of what it marks.
    pub fn dominate(&self, a: &Label, b: &Label) -> Result<Label, LabelError> {
        if a.releasable_to().is_empty() == b.releasable_to().is_empty() {
            return a.dominate(b);
        }
        self.with_default_release(a)?
            .dominate(&self.with_default_release(b)?)
    }

    /// `label` with its policy's default release written as a "Releasable To" set when it names
    /// none: the organisation, or the empty set (nobody beyond the originator).
    fn with_default_release(&self, label: &Label) -> Result<Label, LabelError> {
        if !label.releasable_to().is_empty() {
            return Ok(label.clone());
        }
        let tokens = match self
            .policies
            .get(label.policy())
            .map(|p| &p.default_release)
        {
            Some(DefaultRelease::MembersOf(org)) => vec![ReleaseToken::parse(org)?],
            _ => Vec::new(),
        };
        label.clone().with_releasable_to(tokens)
    }

    /// Whether `label` is within a clearance: the same policy, a level at most the cleared one,
    /// and every caveat held. A label of another policy is refused: no equivalence is applied.
    pub fn is_cleared(&self, clearance: &Clearance<'_>, label: &Label) -> bool {
        let Some(ceiling) = self
            .policies
            .get(clearance.policy)
            .and_then(|p| p.rank_of(clearance.level))
        else {
            return false;
        };
        label.policy() == clearance.policy
            && label.rank() <= ceiling
            && label
                .caveats()
                .iter()
                .all(|c| clearance.caveats.iter().any(|h| h == c))
    }

    /// The index of policy `id`.
    fn policy_of(&self, id: &str) -> Option<usize> {
        match token_key(id) {
            Some(key) => self
                .policy_keys
                .iter()
                .find(|(k, _)| *k == key)
                .map(|&(_, i)| i)
                // An id the table leaves out (a zero byte in it).
                .or_else(|| self.policy_index.get(id).copied()),
            None => self.policy_index.get(id).copied(),
        }
    }

    /// The dense index of `nation`, if the registry knows it (as a nation, member or party).
    fn nation_ix(&self, nation: NationCode) -> Option<usize> {
        self.nation_ix.get(nation_key(nation))
    }

    /// [`ReleasePolicy::resolve_token`] of a parsed token, by the key it was packed into once.
    fn resolve_release_token(&self, token: &ReleaseToken) -> Option<Token> {
        // The key is `token_key` of the text, which a token's 2 to 16 non-zero bytes always have.
        self.tokens
            .get(token.packed())
            .or_else(|| self.resolve_token(token.as_str()))
    }

    /// What a "Releasable To" token names: a group of the registry before a nation of it.
    fn resolve_token(&self, token: &str) -> Option<Token> {
        // The table first; what it does not hold (a text no "Releasable To" value can be) is
        // looked up by name.
        token_key(token)
            .and_then(|key| self.tokens.get(key))
            .or_else(|| match self.groups.get(token) {
                Some(&g) => Some(Token::Group(g)),
                None => self.known_nation(token).map(Token::Nation),
            })
    }

    /// The indexes of the clauses, in order, that may cover a decision on `policy` between the
    /// two nations (the others cannot: a nation is not a party to them, they set no ceiling for
    /// the policy, or both nations could stand under them only for one same organisation).
    fn candidate_covers<'a>(
        &'a self,
        policy: usize,
        a: Option<usize>,
        b: Option<usize>,
    ) -> impl Iterator<Item = usize> + 'a {
        let of = |table: &'a [Vec<u64>], ix: Option<usize>| -> &'a [u64] {
            ix.and_then(|i| table.get(i)).map_or(&[], Vec::as_slice)
        };
        let (self_a, self_b) = (of(&self.self_covers, a), of(&self.self_covers, b));
        let (a, b, p) = (
            of(&self.nation_covers, a),
            of(&self.nation_covers, b),
            of(&self.policy_covers, Some(policy)),
        );
        let multi = of(&self.multi_org_covers, Some(policy));
        // All tables of one kind have as many words; a missing one has none.
        let words = [a, b, p, self_a, self_b, multi]
            .iter()
            .map(|t| t.len())
            .min()
            .unwrap_or(0);
        (0..words).flat_map(move |w| {
            let mut bits = a[w] & b[w] & p[w] & (self_a[w] | self_b[w] | multi[w]);
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + i)
            })
        })
    }

    /// Decides whether `label` may be released by `originator` to `recipient` on `day`.
    pub fn decide(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Decision {
        let decision = |verdict, reason| Decision {
            verdict,
            reason,
            originator,
            recipient,
            day,
        };
        if originator == recipient {
            return decision(Verdict::Permit, Reason::SameNation);
        }
        let Some(policy) = self.policy_of(label.policy()) else {
            // Labels are validated against the same policies; an unknown one is refused, not guessed.
            return decision(
                Verdict::Deny,
                Reason::NoAgreement {
                    policy: label.policy().to_owned(),
                    classification: label.classification().to_owned(),
                    caveats: Vec::new(),
                },
            );
        };
        let (from, to) = (self.nation_ix(originator), self.nation_ix(recipient));
        // 1. Releasability: every "Releasable To" set must admit the recipient on the day.
        if label.releasable_to().is_empty() {
            match self.policy_default[policy] {
                Some(org) => {
                    if !self.members[org].contains(to, day) {
                        return decision(
                            Verdict::Deny,
                            Reason::NotMemberForDefault {
                                policy: label.policy().to_owned(),
                                organization: self.group_names[org].clone(),
                            },
                        );
                    }
                }
                None => {
                    return decision(
                        Verdict::Deny,
                        Reason::OriginatorOnly {
                            policy: label.policy().to_owned(),
                        },
                    )
                }
            }
        }
        // Every token is checked, admitted or not, so that an unknown value denies whatever its
        // position in the set.
        for set in label.releasable_to() {
            if set.is_empty() {
                return decision(Verdict::Deny, Reason::EmptyReleaseSet);
            }
            let mut admitted = false;
            for token in set {
                let t = token.as_str();
                match self.resolve_release_token(token) {
                    Some(Token::Group(g)) => admitted |= self.members[g].contains(to, day),
                    Some(Token::Nation(nation)) => admitted |= nation == recipient,
                    None => {
                        return decision(
                            Verdict::Deny,
                            Reason::UnknownReleaseToken {
                                token: t.to_owned(),
                            },
                        );
                    }
                }
            }
            if !admitted {
                let set = set
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return decision(Verdict::Deny, Reason::NotInReleaseSet { set });
            }
        }
        // 2. One agreement in force must cover the whole decision: both parties, level, caveats.
        let Some(cover) = self
            .candidate_covers(policy, from, to)
            .map(|i| &self.covers[i])
            .find(|c| {
                self.covers_decision(c, label, policy, (originator, from), (recipient, to), day)
            })
        else {
            return decision(
                Verdict::Deny,
                Reason::NoAgreement {
                    policy: label.policy().to_owned(),
                    classification: label.classification().to_owned(),
                    caveats: label.caveats().iter().cloned().collect(),
                },
            );
        };
        // 3. The originator's own rules may still forbid it.
        if let Some(rules) = &self.national_rules {
            if rules.has_rules_for(originator) {
                if let Some(reason) = Reason::from_national_rules(
                    originator,
                    rules.forbids(label, originator, recipient, day),
                ) {
                    return decision(Verdict::Deny, reason);
                }
            }
        }
        decision(Verdict::Permit, Reason::Covered(cover.covering.clone()))
    }

    /// Whether `cover` covers the decision; the nations come with their dense indexes.
    fn covers_decision(
        &self,
        cover: &Cover,
        label: &Label,
        policy: usize,
        originator: (NationCode, Option<usize>),
        recipient: (NationCode, Option<usize>),
        day: Date,
    ) -> bool {
        if !cover.force.contains(day) || cover.suspended.iter().any(|s| s.contains(day)) {
            return false;
        }
        let Some(&(_, ceiling)) = cover.ceilings.iter().find(|(p, _)| *p == policy) else {
            return false;
        };
        if label.rank() > ceiling {
            return false;
        }
        // Most labels carry no caveat: the set is not walked for them.
        let caveats = label.caveats();
        if caveats.is_empty() {
            if cover.caveats_only {
                return false;
            }
        } else if !caveats.iter().all(|c| cover.caveats.contains(c)) {
            return false;
        }
        // The two nations must stand for two different parties: an agreement between Japan and
        // NATO covers exchanges between Japan and the allies, not between two allies.
        let from = self.sides(cover, policy, originator, day);
        let to = self.sides(cover, policy, recipient, day);
        from.iter()
            .flatten()
            .any(|a| to.iter().flatten().any(|b| a != b))
    }

    /// The parties a nation stands for under the cover's agreement on `day`, for information of
    /// `policy`: itself (named, or as a member of the organisation whose members are the parties)
    /// and any organisation named as a party that acts for it (for that organisation's own policy).
    fn sides(
        &self,
        cover: &Cover,
        policy: usize,
        (nation, ix): (NationCode, Option<usize>),
        day: Date,
    ) -> [Option<Side>; 3] {
        let mut sides = [None; 3];
        let accession = match ix {
            Some(i) => cover.accession_ix.get(i).copied().flatten(),
            None => cover
                .accessions
                .iter()
                .find(|(n, _)| *n == nation)
                .map(|(_, d)| *d),
        };
        if accession.is_some_and(|from| day < from) {
            return sides;
        }
        if ix.is_some_and(|i| cover.party_bits[i / 64] & (1 << (i % 64)) != 0)
            || cover
                .member_org
                .is_some_and(|org| self.members[org].contains(ix, day))
        {
            sides[0] = Some(Side::Nation(nation));
        }
        let mut slot = 1;
        for &org in &cover.org_parties {
            if slot < sides.len()
                && self.group_policy[org] == Some(policy)
                && self.members[org].contains(ix, day)
            {
                sides[slot] = Some(Side::Organization(org));
                slot += 1;
            }
        }
        sides
    }
}

#[cfg(test)]
mod memo_tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use entente_labels::{parse_marking, stix, PolicySet};
    use entente_registry::Registry;

    use super::*;

    #[test]
    fn a_memoised_marking_definition_is_the_one_built_from_its_label() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&root.join("registry")).unwrap();
        let policies = PolicySet::load(&root.join("policies")).unwrap();
        let policy = ReleasePolicy::new(&registry, policies);
        let memo = MarkingMemo::default();
        for text in [
            "NATO SECRET//REL TO FRA, GBR",
            "NATO CONFIDENTIAL",
            "NATO SECRET//REL TO FRA, GBR",
        ] {
            let label = parse_marking(policy.policies(), text).unwrap();
            let built = stix::to_marking_definition(policy.policies(), &label).unwrap();
            let first = memo.get_or_build(policy.policies(), &label).unwrap();
            let again = memo.get_or_build(policy.policies(), &label).unwrap();
            assert_eq!(*first, built, "{text}");
            assert!(
                std::sync::Arc::ptr_eq(&first, &again),
                "{text}: built twice"
            );
        }
        assert_eq!(memo.0.read().unwrap().len(), 2);
    }
}
