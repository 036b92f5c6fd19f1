//! ISO 3166-1 numeric codes of the registry's nations, to find them on the map (whose country
//! shapes are keyed by numeric code, the registry's nations by alpha-3 code).
//!
//! Source: UN Statistics Division, Standard country or area codes for statistical use (M49),
//! <https://unstats.un.org/unsd/methodology/m49/> — the M49 codes of countries are the
//! ISO 3166-1 numeric codes. Only the nations of `data/registry/nations.toml` are listed; a test
//! checks that each registry nation has a row.

/// Alpha-3 code, ISO 3166-1 numeric code (three digits, as world-atlas writes them), and, for
/// states too small to have a shape at 1:110m, where to mark them (longitude, latitude of the
/// capital).
pub const NATIONS: &[(&str, &str, Option<[f64; 2]>)] = &[
    ("AFG", "004", None),
    ("ALB", "008", None),
    ("DZA", "012", None),
    ("AUS", "036", None),
    ("AUT", "040", None),
    ("AZE", "031", None),
    ("BHR", "048", Some([50.58, 26.23])),
    ("ARM", "051", None),
    ("BEL", "056", None),
    ("BIH", "070", None),
    ("BGR", "100", None),
    ("BLR", "112", None),
    ("CAN", "124", None),
    ("COL", "170", None),
    ("HRV", "191", None),
    ("CYP", "196", None),
    ("CZE", "203", None),
    ("DNK", "208", None),
    ("EST", "233", None),
    ("FIN", "246", None),
    ("FRA", "250", None),
    ("GEO", "268", None),
    ("DEU", "276", None),
    ("GRC", "300", None),
    ("HUN", "348", None),
    ("ISL", "352", None),
    ("IRQ", "368", None),
    ("IRL", "372", None),
    ("ISR", "376", None),
    ("ITA", "380", None),
    ("JPN", "392", None),
    ("KAZ", "398", None),
    ("JOR", "400", None),
    ("KOR", "410", None),
    ("KWT", "414", None),
    ("KGZ", "417", None),
    ("LVA", "428", None),
    ("LTU", "440", None),
    ("LUX", "442", None),
    ("MLT", "470", Some([14.51, 35.90])),
    ("MRT", "478", None),
    ("MNG", "496", None),
    ("MDA", "498", None),
    ("MNE", "499", None),
    ("MAR", "504", None),
    ("NLD", "528", None),
    ("NZL", "554", None),
    ("NOR", "578", None),
    ("PAK", "586", None),
    ("PHL", "608", None),
    ("POL", "616", None),
    ("PRT", "620", None),
    ("QAT", "634", None),
    ("ROU", "642", None),
    ("RUS", "643", None),
    ("SRB", "688", None),
    ("SVK", "703", None),
    ("SVN", "705", None),
    ("ESP", "724", None),
    ("SWE", "752", None),
    ("CHE", "756", None),
    ("TJK", "762", None),
    ("ARE", "784", None),
    ("TUN", "788", None),
    ("TUR", "792", None),
    ("TKM", "795", None),
    ("UKR", "804", None),
    ("MKD", "807", None),
    ("EGY", "818", None),
    ("GBR", "826", None),
    ("USA", "840", None),
    ("UZB", "860", None),
];

/// The alpha-3 code of a numeric code, for the nations listed.
pub fn alpha3(numeric: &str) -> Option<&'static str> {
    NATIONS
        .iter()
        .find(|(_, n, _)| *n == numeric)
        .map(|(a, _, _)| *a)
}

/// The numeric code of an alpha-3 code, for the nations listed.
#[cfg(test)]
pub fn numeric(alpha3: &str) -> Option<&'static str> {
    NATIONS
        .iter()
        .find(|(a, _, _)| *a == alpha3)
        .map(|(_, n, _)| *n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_registry_nation_has_one_numeric_code_and_each_code_one_nation() {
        let registry =
            entente_registry::Registry::load(&entente_node::shipped_data().join("registry"))
                .unwrap();
        let missing: Vec<String> = registry
            .nations()
            .map(|n| n.code.to_string())
            .filter(|code| numeric(code).is_none())
            .collect();
        assert!(missing.is_empty(), "no numeric code for {missing:?}");
        assert_eq!(
            NATIONS.len(),
            registry.nations().count(),
            "only registry nations"
        );
        for (a, n, _) in NATIONS {
            assert_eq!(
                alpha3(numeric(a).unwrap()),
                Some(*a),
                "{a} and {n} are not one-to-one"
            );
            assert!(n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()), "{n}");
        }
        let distinct: BTreeSet<&str> = NATIONS.iter().map(|(_, n, _)| *n).collect();
        assert_eq!(distinct.len(), NATIONS.len());
        // Spot checks against M49.
        assert_eq!(numeric("FRA"), Some("250"));
        assert_eq!(numeric("MKD"), Some("807"));
        assert_eq!(numeric("GBR"), Some("826"));
        assert_eq!(alpha3("840"), Some("USA"));
    }
}
