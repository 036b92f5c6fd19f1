//! The classification banner, as classified systems show it top and bottom of every screen: the
//! highest label of what the page displays (the labels dominated with
//! `ReleasePolicy::dominate`, one per policy when a page shows labels of several).
//!
//! Colours go by a level's place from the top of its policy: the top level orange, the next red,
//! then blue, then amber, the lower ones green. For the United States' three levels that is the
//! colour of the Standard Form cover sheets (SF 703 TOP SECRET orange, SF 704 SECRET red, SF 705
//! CONFIDENTIAL blue); for other policies it is this console's convention, since they publish
//! no colours.

use entente_labels::{render_marking, Label, PolicySet};
use entente_policy::ReleasePolicy;

/// A page's banner: its text and the CSS class of its colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub text: String,
    pub class: &'static str,
}

/// The classes from the top level of a policy down.
const CLASSES: [&str; 5] = [
    "level-top",
    "level-second",
    "level-third",
    "level-fourth",
    "level-low",
];

impl Banner {
    /// What a page that shows no labelled information carries.
    pub fn unlabelled() -> Banner {
        Banner {
            text: "NO LABELLED INFORMATION DISPLAYED".into(),
            class: "level-none",
        }
    }

    /// The banner of a page that shows `labels`.
    pub fn of<'a>(policy: &ReleasePolicy, labels: impl IntoIterator<Item = &'a Label>) -> Banner {
        // The dominant label of each policy, in the order the policies first appear.
        let mut dominant: Vec<Label> = Vec::new();
        for label in labels {
            match dominant.iter_mut().find(|d| d.policy() == label.policy()) {
                Some(d) => {
                    if let Ok(higher) = policy.dominate(d, label) {
                        *d = higher;
                    }
                }
                None => dominant.push(label.clone()),
            }
        }
        if dominant.is_empty() {
            return Banner::unlabelled();
        }
        let policies = policy.policies();
        let class = dominant
            .iter()
            .map(|l| class_index(policies, l))
            .min()
            .map_or("level-none", |i| CLASSES[i]);
        Banner {
            text: dominant
                .iter()
                .map(|l| label_text(policies, l))
                .collect::<Vec<_>>()
                .join(" | "),
            class,
        }
    }
}

/// A label as a marking, e.g. `NATO SECRET//REL TO FRA, GBR`.
pub fn label_text(policies: &PolicySet, label: &Label) -> String {
    render_marking(policies, label)
        .unwrap_or_else(|_| format!("{} {}", label.policy(), label.classification()))
}

/// The colour class of a label alone.
pub fn label_class(policies: &PolicySet, label: &Label) -> &'static str {
    CLASSES[class_index(policies, label)]
}

/// The label a banner text names (as the node renders labels), if it is one.
pub fn label_of_text(policies: &PolicySet, text: &str) -> Option<Label> {
    entente_labels::parse_marking(policies, text).ok()
}

/// The colour class of a label given as its banner text (`level-none` when it is none).
pub fn label_class_of_text(policies: &PolicySet, text: &str) -> &'static str {
    label_of_text(policies, text).map_or("level-none", |l| label_class(policies, &l))
}

fn class_index(policies: &PolicySet, label: &Label) -> usize {
    let levels = policies.get(label.policy()).map_or(0, |p| p.levels.len());
    let from_top = levels.saturating_sub(usize::from(label.rank()) + 1);
    from_top.min(CLASSES.len() - 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use entente_labels::parse_marking;

    fn policy() -> ReleasePolicy {
        let data = entente_node::shipped_data();
        let registry = entente_registry::Registry::load(&data.join("registry")).unwrap();
        let policies = PolicySet::load(&data.join("policies")).unwrap();
        ReleasePolicy::new(&registry, policies)
    }

    #[test]
    fn the_banner_is_the_dominant_label_in_its_level_colour() {
        let p = policy();
        let a = parse_marking(p.policies(), "NATO CONFIDENTIAL//REL TO FRA, GBR, JPN").unwrap();
        let b = parse_marking(p.policies(), "NATO SECRET//REL TO FRA, GBR").unwrap();
        let banner = Banner::of(&p, [&a, &b]);
        assert_eq!(banner.text, "NATO SECRET//REL TO FRA, GBR");
        assert_eq!(banner.class, "level-second");
    }

    #[test]
    fn labels_of_several_policies_show_one_dominant_label_each() {
        let p = policy();
        let a = parse_marking(p.policies(), "NATO SECRET").unwrap();
        let b = parse_marking(p.policies(), "US TOP SECRET").unwrap();
        let banner = Banner::of(&p, [&a, &b]);
        assert!(banner.text.contains("NATO SECRET") && banner.text.contains("US TOP SECRET"));
        assert_eq!(banner.class, "level-top");
        assert_eq!(Banner::of(&p, []), Banner::unlabelled());
    }
}
