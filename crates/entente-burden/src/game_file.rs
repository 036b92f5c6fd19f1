//! The cost-game file format: TOML with `players` and one `[[coalition]]` (its `members` and
//! `cost`) per non-empty coalition, read into an [`allocate::CostGame`](crate::allocate::CostGame).

use std::path::Path;

use entente_types::NationCode;

use crate::allocate::CostGame;
use crate::error::{Error, ErrorKind, Location, Problem};
use crate::input::Ctx;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGame {
    players: Vec<NationCode>,
    coalition: Vec<RawCoalition>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoalition {
    members: Vec<NationCode>,
    cost: f64,
}

/// Parses a cost game; `file` names the input in error messages.
pub fn parse_game(text: &str, file: Option<&Path>) -> Result<CostGame, Error> {
    let mut ctx = Ctx::new(file, text);
    let Some(raw) = ctx.parse::<RawGame>() else {
        return Err(Error::invalid(ctx.problems));
    };
    let coalitions: Vec<(Vec<NationCode>, f64)> = raw
        .coalition
        .into_iter()
        .map(|c| (c.members, c.cost))
        .collect();
    CostGame::new(raw.players, &coalitions).map_err(|e| in_file(e, file))
}

/// Reads and parses a cost-game file.
pub fn read_game(file: &Path) -> Result<CostGame, Error> {
    let text = std::fs::read_to_string(file).map_err(|source| {
        Error::new(ErrorKind::Io {
            path: file.to_path_buf(),
            source,
        })
    })?;
    parse_game(&text, Some(file))
}

/// Names the file in the problems of a game that parsed but does not hold together.
fn in_file(e: Error, file: Option<&Path>) -> Error {
    match (e.kind(), file) {
        (ErrorKind::Invalid(problems), Some(file)) => Error::invalid(
            problems
                .iter()
                .map(|p| Problem {
                    location: Location {
                        file: Some(file.to_path_buf()),
                        ..p.location.clone()
                    },
                    message: p.message.clone(),
                })
                .collect(),
        ),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: &str = r#"players = ["FRA", "DEU"]
[[coalition]]
members = ["FRA"]
cost = 30
[[coalition]]
members = ["DEU"]
cost = 60
[[coalition]]
members = ["FRA", "DEU"]
cost = 60
"#;

    #[test]
    fn a_complete_game_parses() {
        let game = parse_game(RANGE, None).unwrap();
        assert_eq!(game.players().len(), 2);
        assert_eq!(game.total(), 60.0);
    }

    #[test]
    fn a_missing_coalition_names_the_file() {
        let cut = RANGE
            .find("[[coalition]]\nmembers = [\"FRA\", \"DEU\"]")
            .unwrap();
        let err = parse_game(&RANGE[..cut], Some(Path::new("game.toml"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("game.toml"), "{text}");
        assert!(text.contains("missing"), "{text}");
    }

    #[test]
    fn a_syntax_error_names_file_and_line() {
        let err =
            parse_game("players = [\"FRA\"]\ncost = \n", Some(Path::new("g.toml"))).unwrap_err();
        assert!(err.to_string().contains("g.toml:2"), "{err}");
    }

    #[test]
    fn an_unreadable_file_is_an_io_error() {
        let err = read_game(Path::new("/nonexistent/game.toml")).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Io { .. }));
    }
}
