//! Resolving a cost-share request into an allocation: which nations share, which amount, on which
//! basis, under which rule, with fairness indicators and, for a cost game, the core check.
//!
//! A request names its inputs the way a user gives them (a basis by name or file, inline weights,
//! a programme phase, a game); [`resolve`] fills in what is left out from the others, in this
//! order: the programme phase (its contributing participants, its cost, its plans in force), the
//! game (its players, its grand-coalition cost), the basis (its nations), then 100.

use std::path::{Path, PathBuf};

use entente_types::{Date, NationCode};

use crate::allocate::{self, Allocation, CoreCheck, CostGame, Fairness};
use crate::error::{Error, ErrorKind};
use crate::{Basis, Dataset};

/// The sharing rule asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareRule {
    /// Proportional to gross national income (the basis must be a `gni` one).
    Gni,
    /// Proportional to gross domestic product (the basis must be a `gdp` one).
    Gdp,
    /// Proportional to any basis.
    Proportional,
    /// Equal shares.
    Equal,
    /// The Shapley value of a cost game.
    Shapley,
}

impl ShareRule {
    /// The rule's name as the command line spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareRule::Gni => "gni",
            ShareRule::Gdp => "gdp",
            ShareRule::Proportional => "proportional",
            ShareRule::Equal => "equal",
            ShareRule::Shapley => "shapley",
        }
    }

    /// The basis kind the rule requires, if any.
    fn basis_kind(self) -> Option<&'static str> {
        match self {
            ShareRule::Gni => Some("gni"),
            ShareRule::Gdp => Some("gdp"),
            _ => None,
        }
    }
}

/// What to share and how.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    pub rule: ShareRule,
    /// The amount (default: the phase's cost, else the game's grand-coalition cost, else 100).
    pub total: Option<f64>,
    /// A basis of the dataset by name, or a basis file.
    pub basis: Option<String>,
    /// Basis values given inline; they add to or replace the basis's values.
    pub weights: Vec<(NationCode, f64)>,
    /// Share among these nations only (default: the phase's, the game's or the basis's nations).
    pub nations: Vec<NationCode>,
    pub cap: Option<f64>,
    pub floor: Option<f64>,
    /// A cost-game file, for [`ShareRule::Shapley`].
    pub game: Option<PathBuf>,
    /// A programme of the dataset's ledger whose phase cost is shared.
    pub programme: Option<String>,
    /// The phase (default: the first with a cost).
    pub phase: Option<String>,
    /// Participants on this day (default: the phase's latest plan, else `today`).
    pub at: Option<Date>,
    /// The caller's today, used only when neither `at` nor a plan gives a day.
    pub today: Date,
}

/// A resolved cost share.
#[derive(Debug, Clone)]
pub struct CostShare {
    pub rule: ShareRule,
    /// The amount shared.
    pub total: f64,
    pub cap: Option<f64>,
    pub floor: Option<f64>,
    pub basis: Option<Basis>,
    /// Where the nations and amount came from, e.g. `eurodrone / development on 2024-01-01`.
    pub context: Vec<String>,
    pub allocation: Allocation,
    /// The planned contributions in force in the programme phase, when one was given.
    pub planned: Vec<(NationCode, f64)>,
    /// Fairness against the basis, or against equal shares when no complete basis applies.
    pub fairness: Fairness,
    /// Whether `fairness` is measured against the basis (else against equal shares).
    pub against_basis: bool,
    /// Whether the allocation is in the core of the game, when one was given.
    pub core: Option<CoreCheck>,
}

impl CostShare {
    /// The planned contribution of a nation as a share of all planned contributions.
    pub fn planned_share(&self, nation: NationCode) -> Option<f64> {
        let sum: f64 = self.planned.iter().map(|(_, v)| v).sum();
        self.planned
            .iter()
            .find(|(n, _)| *n == nation)
            .map(|(_, v)| *v)
            .filter(|_| sum > 0.0)
            .map(|v| v / sum)
    }
}

/// Resolves a request against the dataset and computes the allocation.
pub fn resolve(data: &Dataset, request: &ShareRequest) -> Result<CostShare, Error> {
    let basis = basis_of(data, request)?;
    let mut nations = request.nations.clone();
    let mut total = request.total;
    let mut context = Vec::new();
    let mut planned: Vec<(NationCode, f64)> = Vec::new();
    if let Some(name) = &request.programme {
        let p = data.ledger.get(name)?;
        let phase = match &request.phase {
            Some(id) => p.phases.iter().find(|ph| ph.id == *id).ok_or_else(|| {
                Error::input("--phase", format!("programme {} has no phase {id:?}", p.id))
            })?,
            None => p
                .phases
                .iter()
                .find(|ph| ph.cost.is_some())
                .ok_or_else(|| {
                    Error::input(
                        "--programme",
                        format!("programme {} has no phase with a cost", p.id),
                    )
                })?,
        };
        let day = match request.at {
            Some(at) => at,
            None => phase
                .contributions
                .iter()
                .map(|c| c.as_of)
                .max()
                .unwrap_or(request.today),
        };
        if nations.is_empty() {
            nations = p
                .participants_on(day)
                .iter()
                .filter(|x| x.role.contributes())
                .map(|x| x.nation)
                .collect();
        }
        if total.is_none() {
            total = phase.cost;
        }
        planned = phase
            .current(Some(day))
            .values()
            .filter_map(|c| Some((c.nation, phase.planned_amount(c)?)))
            .collect();
        context.push(format!("{} / {} on {day}", p.id, phase.id));
    }
    let game = match &request.game {
        Some(file) => Some(crate::game_file::read_game(file)?),
        None => None,
    };
    if let Some(g) = &game {
        if nations.is_empty() {
            nations = g.players().to_vec();
        }
        if total.is_none() {
            total = Some(g.total());
        }
    }
    if nations.is_empty() {
        if let Some(b) = &basis {
            nations = b.values.iter().map(|(n, _)| *n).collect();
        }
    }
    if nations.is_empty() {
        return Err(Error::input(
            "--nations",
            "no nations to share among: give --nations, --basis, --weight, --programme or --game",
        ));
    }
    let total = total.unwrap_or(100.0);
    let weights = basis.as_ref().map(|b| weights_of(b, &nations));
    if let Some(w) = &weights {
        let missing: Vec<&str> = w
            .iter()
            .filter(|(_, v)| v.is_nan())
            .map(|(n, _)| n.as_str())
            .collect();
        if !missing.is_empty() && !matches!(request.rule, ShareRule::Equal | ShareRule::Shapley) {
            return Err(Error::input(
                "--basis",
                format!(
                    "the basis has no value for {}: give them with --weight NATION=VALUE or leave them out with --nations",
                    missing.join(", ")
                ),
            ));
        }
    }
    let allocation = allocate_by_rule(request, total, weights.as_deref(), &nations, game.as_ref())?;
    let reference: Vec<(NationCode, f64)> = match &weights {
        Some(w) if w.iter().all(|(_, v)| !v.is_nan()) => w.clone(),
        _ => nations.iter().map(|n| (*n, 1.0)).collect(),
    };
    let fairness = allocate::fairness(&allocation, &reference);
    let core = game.as_ref().map(|g| g.core_check(&allocation));
    Ok(CostShare {
        rule: request.rule,
        total,
        cap: request.cap,
        floor: request.floor,
        basis,
        context,
        allocation,
        planned,
        fairness,
        against_basis: weights.is_some(),
        core,
    })
}

/// The basis value of each nation, NaN where the basis has none.
fn weights_of(basis: &Basis, nations: &[NationCode]) -> Vec<(NationCode, f64)> {
    nations
        .iter()
        .map(|n| {
            let value = basis
                .values
                .iter()
                .find(|(x, _)| x == n)
                .map_or(f64::NAN, |(_, v)| *v);
            (*n, value)
        })
        .collect()
}

fn allocate_by_rule(
    request: &ShareRequest,
    total: f64,
    weights: Option<&[(NationCode, f64)]>,
    nations: &[NationCode],
    game: Option<&CostGame>,
) -> Result<Allocation, Error> {
    match request.rule {
        ShareRule::Gni | ShareRule::Gdp | ShareRule::Proportional => {
            let w = weights.ok_or_else(|| {
                Error::input("--basis", "a proportional rule needs --basis or --weight")
            })?;
            allocate::proportional(total, w, request.cap, request.floor)
        }
        ShareRule::Equal => {
            let allocation = allocate::equal(total, nations)?;
            if request.cap.is_some() || request.floor.is_some() {
                return Err(Error::input(
                    "--cap",
                    "--cap and --floor apply to proportional rules only",
                ));
            }
            Ok(allocation)
        }
        ShareRule::Shapley => {
            let g =
                game.ok_or_else(|| Error::input("--game", "--rule shapley needs --game FILE"))?;
            Ok(rescaled(g.shapley(), g.total(), total))
        }
    }
}

/// The Shapley value scaled to the requested total when it differs from the game's grand-coalition
/// cost (a game with no cost cannot be scaled and is kept as it is).
fn rescaled(mut phi: Allocation, game_total: f64, total: f64) -> Allocation {
    if game_total > 0.0 && (total - game_total).abs() > 0.0 {
        for s in &mut phi.shares {
            s.amount = s.fraction * total;
        }
        phi.total = total;
    }
    phi
}

/// The basis for a proportional rule: a named basis or a file, then inline weights.
fn basis_of(data: &Dataset, request: &ShareRequest) -> Result<Option<Basis>, Error> {
    let mut basis = match &request.basis {
        None => None,
        Some(name) if Path::new(name).is_file() => {
            let path = Path::new(name);
            let text = std::fs::read_to_string(path).map_err(|source| {
                Error::new(ErrorKind::Io {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
            Some(Basis::parse(&text, Some(path), &|id| data.source_tier(id))?)
        }
        Some(name) => Some(data.basis(name)?.clone()),
    };
    if !request.weights.is_empty() {
        let b = basis.get_or_insert_with(|| Basis {
            name: "command line".to_owned(),
            kind: request.rule.basis_kind().unwrap_or("weight").to_owned(),
            year: None,
            unit: "as given".to_owned(),
            source: "command line".to_owned(),
            values: Vec::new(),
        });
        for (n, v) in &request.weights {
            b.values.retain(|(x, _)| x != n);
            b.values.push((*n, *v));
        }
    }
    if let (Some(b), Some(want)) = (&basis, request.rule.basis_kind()) {
        if b.kind != want {
            return Err(Error::input(
                "--basis",
                format!(
                    "basis {:?} measures {}, but --rule {want} needs a {want} basis",
                    b.name, b.kind
                ),
            ));
        }
    }
    Ok(basis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset() -> Dataset {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/burden");
        crate::load(&dir).unwrap()
    }

    fn n(code: &str) -> NationCode {
        code.parse().unwrap()
    }

    fn request(rule: ShareRule) -> ShareRequest {
        ShareRequest {
            rule,
            total: None,
            basis: None,
            weights: Vec::new(),
            nations: Vec::new(),
            cap: None,
            floor: None,
            game: None,
            programme: None,
            phase: None,
            at: None,
            today: entente_types::parse_date("2025-01-01").unwrap(),
        }
    }

    #[test]
    fn inline_weights_share_proportionally() {
        let mut r = request(ShareRule::Proportional);
        r.weights = vec![(n("FRA"), 1.0), (n("DEU"), 3.0)];
        r.total = Some(8.0);
        let share = resolve(&dataset(), &r).unwrap();
        assert_eq!(share.allocation.shares[0].amount, 2.0);
        assert_eq!(share.allocation.shares[1].amount, 6.0);
        assert!(share.against_basis);
        assert_eq!(share.basis.unwrap().kind, "weight");
    }

    #[test]
    fn a_cap_binds_the_largest_share() {
        let mut r = request(ShareRule::Proportional);
        r.weights = vec![
            (n("USA"), 18.0),
            (n("DEU"), 3.6),
            (n("FRA"), 2.6),
            (n("ITA"), 1.9),
        ];
        r.cap = Some(0.3);
        r.total = Some(1000.0);
        let share = resolve(&dataset(), &r).unwrap();
        let sum: f64 = share.allocation.shares.iter().map(|s| s.amount).sum();
        assert!((sum - 1000.0).abs() < 1e-6);
        assert!(share
            .allocation
            .shares
            .iter()
            .any(|s| s.bound == Some(allocate::Bound::Cap)));
    }

    #[test]
    fn the_basis_kind_must_match_the_rule() {
        let dir = std::env::temp_dir().join(format!("entente-basis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gni-example.toml");
        std::fs::write(
            &file,
            "name = \"gni-example\"\nkind = \"gni\"\nunit = \"weight\"\nsource = \"B9\"\nvalues = [{ nation = \"FRA\", value = 1.0 }]\n",
        )
        .unwrap();
        let mut r = request(ShareRule::Gdp);
        r.basis = Some(file.display().to_string());
        let err = resolve(&dataset(), &r).unwrap_err();
        assert!(err.to_string().contains("needs a gdp basis"), "{err}");
    }

    #[test]
    fn equal_shares_refuse_a_cap() {
        let mut r = request(ShareRule::Equal);
        r.nations = vec![n("FRA"), n("DEU")];
        r.cap = Some(0.6);
        let err = resolve(&dataset(), &r).unwrap_err();
        assert!(err.to_string().contains("proportional rules only"), "{err}");
    }

    #[test]
    fn no_nations_is_an_input_error() {
        let err = resolve(&dataset(), &request(ShareRule::Equal)).unwrap_err();
        assert_eq!(err.code(), entente_types::ErrorCode::InvalidInput);
        assert!(
            err.to_string().contains("no nations to share among"),
            "{err}"
        );
    }

    #[test]
    fn shapley_needs_a_game() {
        let mut r = request(ShareRule::Shapley);
        r.nations = vec![n("FRA")];
        let err = resolve(&dataset(), &r).unwrap_err();
        assert!(err.to_string().contains("needs --game"), "{err}");
    }

    #[test]
    fn shapley_is_rescaled_to_the_requested_total() {
        let game = CostGame::new(
            vec![n("FRA"), n("DEU")],
            &[
                (vec![n("FRA")], 30.0),
                (vec![n("DEU")], 60.0),
                (vec![n("FRA"), n("DEU")], 60.0),
            ],
        )
        .unwrap();
        let phi = rescaled(game.shapley(), game.total(), 120.0);
        assert_eq!(phi.total, 120.0);
        let sum: f64 = phi.shares.iter().map(|s| s.amount).sum();
        assert!((sum - 120.0).abs() < 1e-9);
        let same = rescaled(game.shapley(), game.total(), 60.0);
        assert_eq!(same, game.shapley());
    }

    #[test]
    fn a_programme_phase_gives_nations_total_and_plans() {
        let data = dataset();
        let Some(p) = data
            .ledger
            .programmes()
            .iter()
            .find(|p| p.phases.iter().any(|ph| ph.cost.is_some()))
        else {
            return;
        };
        let mut r = request(ShareRule::Equal);
        r.programme = Some(p.id.clone());
        let share = resolve(&data, &r).unwrap();
        assert!(!share.allocation.shares.is_empty());
        assert_eq!(share.context.len(), 1);
        assert!(share.context[0].starts_with(&p.id));
    }
}
