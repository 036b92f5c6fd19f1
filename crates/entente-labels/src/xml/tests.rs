//! Tests of the STANAG 4774 XML form: the research example, round-trips through every form, and
//! every refusal (DTDs, entities, foreign namespaces, unknown elements, lookalike characters, size).

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::{from_xml, to_xml, MAX_XML_BYTES, NAMESPACE};
use crate::{parse_marking, render_marking, stix, Label, LabelErrorKind, PolicySet, ReleaseToken};

fn policies() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        PolicySet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/policies"))
            .unwrap_or_else(|e| panic!("shipped policies do not load: {e}"))
    })
}

/// The example of `shared/research/labels-and-policy.md`, as written there.
const RESEARCH_EXAMPLE: &str = r#"<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
    ReviewDateTime="2031-01-01T00:00:00Z">
 <slab:ConfidentialityInformation>
  <slab:PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</slab:PolicyIdentifier>
  <slab:Classification>SECRET</slab:Classification>
  <slab:Category Type="PERMISSIVE" TagName="Context"><slab:GenericValue>NATO</slab:GenericValue></slab:Category>
  <slab:Category Type="RESTRICTIVE" TagName="Additional Sensitivity"><slab:GenericValue>ATOMAL</slab:GenericValue></slab:Category>
  <slab:Category Type="PERMISSIVE" TagName="Releasable To"><slab:GenericValue>SWE</slab:GenericValue></slab:Category>
 </slab:ConfidentialityInformation>
 <slab:OriginatorID IDType="rfc822Name">ops@example.org</slab:OriginatorID>
 <slab:CreationDateTime>2026-01-10T12:00:00Z</slab:CreationDateTime>
</slab:originatorConfidentialityLabel>
"#;

fn parse(xml: &str) -> Label {
    from_xml(policies(), xml).unwrap_or_else(|e| panic!("refused: {e}\n{xml}"))
}

/// The error for `xml`, as displayed (`path: message`).
fn refusal(xml: &str) -> String {
    match from_xml(policies(), xml) {
        Ok(label) => panic!("accepted {label:?} from\n{xml}"),
        Err(e) => e.to_string(),
    }
}

/// A document around `info` (the content of `ConfidentialityInformation`).
fn doc(info: &str) -> String {
    format!(
        r#"<l:originatorConfidentialityLabel xmlns:l="{NAMESPACE}"><l:ConfidentialityInformation>{info}</l:ConfidentialityInformation></l:originatorConfidentialityLabel>"#
    )
}

/// A NATO SECRET document with one category.
fn with_category(kind: &str, tag: &str, values: &[&str]) -> String {
    let values: String = values
        .iter()
        .map(|v| format!("<l:GenericValue>{v}</l:GenericValue>"))
        .collect();
    doc(&format!(
        r#"<l:PolicyIdentifier>NATO</l:PolicyIdentifier><l:Classification>SECRET</l:Classification><l:Category Type="{kind}" TagName="{tag}">{values}</l:Category>"#
    ))
}

fn markings_through_xml(marking: &str) -> String {
    let label = parse_marking(policies(), marking).unwrap();
    let xml = to_xml(policies(), &label).unwrap();
    let back = parse(&xml);
    assert_eq!(back, label, "{xml}");
    render_marking(policies(), &back).unwrap()
}

#[test]
fn the_research_example_parses() {
    let label = parse(RESEARCH_EXAMPLE);
    assert_eq!((label.policy(), label.classification()), ("NATO", "SECRET"));
    assert_eq!(label.caveats().iter().collect::<Vec<_>>(), ["ATOMAL"]);
    assert_eq!(label.contexts().iter().collect::<Vec<_>>(), ["NATO"]);
    let sets: Vec<Vec<&str>> = label
        .releasable_to()
        .iter()
        .map(|s| s.iter().map(ReleaseToken::as_str).collect())
        .collect();
    assert_eq!(sets, [["SWE"]]);
    assert_eq!(label.originator(), Some("ops@example.org"));
    assert_eq!(label.created(), Some("2026-01-10T12:00:00Z"));
    assert_eq!(label.review(), Some("2031-01-01T00:00:00Z"));
    assert_eq!(
        render_marking(policies(), &label).unwrap(),
        "NATO SECRET//ATOMAL//REL TO SWE//CONTEXT NATO"
    );
}

#[test]
fn the_research_example_is_written_in_a_fixed_shape() {
    let xml = to_xml(policies(), &parse(RESEARCH_EXAMPLE)).unwrap();
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">
 <slab:ConfidentialityInformation>
  <slab:PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</slab:PolicyIdentifier>
  <slab:Classification>SECRET</slab:Classification>
  <slab:Category Type="PERMISSIVE" TagName="Releasable To">
   <slab:GenericValue>SWE</slab:GenericValue>
  </slab:Category>
  <slab:Category Type="RESTRICTIVE" TagName="Additional Sensitivity">
   <slab:GenericValue>ATOMAL</slab:GenericValue>
  </slab:Category>
  <slab:Category Type="INFORMATIVE" TagName="Context">
   <slab:GenericValue>NATO</slab:GenericValue>
  </slab:Category>
 </slab:ConfidentialityInformation>
 <slab:OriginatorID IDType="rfc822Name">ops@example.org</slab:OriginatorID>
 <slab:CreationDateTime>2026-01-10T12:00:00Z</slab:CreationDateTime>
 <slab:ReviewDateTime>2031-01-01T00:00:00Z</slab:ReviewDateTime>
</slab:originatorConfidentialityLabel>
"#
    );
    assert_eq!(parse(&xml), parse(RESEARCH_EXAMPLE));
}

#[test]
fn markings_round_trip_through_xml() {
    for marking in [
        "NATO SECRET//REL TO FRA, GBR, USA",
        "FR SECRET//REL TO DEU, FRA",
        "NATO SECRET//ATOMAL//REL TO FRA, GBR",
        "NATO SECRET//REL TO NONE",
        "NATO CONFIDENTIAL//ATOMAL, CRYPTO//REL TO FRA//REL TO FVEY, NATO//CONTEXT NATO",
        "DE VS-NUR FÜR DEN DIENSTGEBRAUCH",
        "SECRET UE/EU SECRET//CONTEXT EU",
        "FR TRÈS SECRET//SPECIAL FRANCE",
        "UK OFFICIAL",
        "US TOP SECRET//REL TO USA",
    ] {
        assert_eq!(markings_through_xml(marking), marking);
    }
}

#[test]
fn the_empty_release_set_is_an_empty_category() {
    let label = parse_marking(policies(), "NATO SECRET//REL TO NONE").unwrap();
    let xml = to_xml(policies(), &label).unwrap();
    assert!(
        xml.contains(r#"<slab:Category Type="PERMISSIVE" TagName="Releasable To"/>"#),
        "{xml}"
    );
    let back = parse(&xml);
    assert_eq!(back.releasable_to().len(), 1);
    assert!(back.releasable_to()[0].is_empty());
}

#[test]
fn text_is_escaped_and_kept_exactly() {
    let label = parse_marking(policies(), "UK SECRET")
        .unwrap()
        .with_originator(" <ops> & \"cell\" 'A' ")
        .unwrap()
        .with_created("2026-01-10T12:00:00.123+02:00")
        .unwrap();
    let xml = to_xml(policies(), &label).unwrap();
    assert!(xml.contains("<slab:OriginatorID> &lt;ops&gt; &amp; &quot;cell&quot; &apos;A&apos; </slab:OriginatorID>"), "{xml}");
    assert!(!xml.contains("URI="), "GBR has no OID: {xml}");
    assert_eq!(parse(&xml), label);
}

#[test]
fn any_prefix_and_the_default_namespace_are_accepted() {
    let plain = format!(
        r#"<?xml version="1.0"?>
<!-- a comment -->
<originatorConfidentialityLabel xmlns="{NAMESPACE}"><ConfidentialityInformation><PolicyIdentifier>NATO</PolicyIdentifier><Classification>NATO SECRET</Classification><Category Type="PERMISSIVE" TagName="Releasable To"><GenericValue>F&#x52;A</GenericValue><GenericValue><![CDATA[GBR]]></GenericValue></Category></ConfidentialityInformation></originatorConfidentialityLabel>"#
    );
    let prefixed = with_category("PERMISSIVE", "Releasable To", &["GBR", "FRA"]);
    let expected = parse_marking(policies(), "NATO SECRET//REL TO FRA, GBR").unwrap();
    assert_eq!(parse(&plain), expected);
    assert_eq!(parse(&prefixed), expected);
}

#[test]
fn forms_agree_on_the_same_label() {
    let label = parse(RESEARCH_EXAMPLE);
    let md = stix::to_marking_definition(policies(), &label).unwrap();
    let from_json = stix::from_marking_definition(policies(), &md).unwrap();
    assert_eq!(from_json, label);
    assert_eq!(parse(&to_xml(policies(), &from_json).unwrap()), label);
}

#[test]
fn dtds_and_entities_are_refused() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"><slab:ConfidentialityInformation><slab:PolicyIdentifier>&lol3;</slab:PolicyIdentifier></slab:ConfidentialityInformation></slab:originatorConfidentialityLabel>"#;
    assert_eq!(
        refusal(billion_laughs),
        "xml: DOCTYPE declarations are refused (no DTD, no entity declarations)"
    );
    let xxe = r#"<!DOCTYPE l [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><l/>"#;
    assert_eq!(
        refusal(xxe),
        "xml: DOCTYPE declarations are refused (no DTD, no entity declarations)"
    );
    let plain_doctype = format!(
        "<!DOCTYPE originatorConfidentialityLabel>{}",
        with_category("PERMISSIVE", "Releasable To", &["FRA"])
    );
    assert!(refusal(&plain_doctype).contains("DOCTYPE declarations are refused"));
    // An undeclared entity, without any DOCTYPE.
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Releasable To", &["&xxe;"])),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: entity reference &xxe; refused: only &lt; &gt; &amp; &apos; &quot; and character references"
    );
    let in_attribute = doc(r#"<l:PolicyIdentifier URI="&xxe;">NATO</l:PolicyIdentifier>"#);
    assert!(
        refusal(&in_attribute)
            .starts_with("ConfidentialityInformation/PolicyIdentifier/@URI: bad attribute value"),
        "{}",
        refusal(&in_attribute)
    );
}

#[test]
fn processing_instructions_and_foreign_declarations_are_refused() {
    let body = with_category("PERMISSIVE", "Releasable To", &["FRA"]);
    assert_eq!(
        refusal(&format!("<?xml-stylesheet href=\"x.xsl\"?>{body}")),
        "xml: processing instructions are refused"
    );
    assert_eq!(
        refusal(&format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{body}"
        )),
        "xml: encoding \"ISO-8859-1\" refused: expected UTF-8"
    );
    assert_eq!(
        refusal(&format!("<?xml version=\"1.1\"?>{body}")),
        "xml: XML version \"1.1\" refused: expected 1.0"
    );
    assert_eq!(
        refusal(&format!("<!-- first -->\n<?xml version=\"1.0\"?>{body}")),
        "xml: the XML declaration must come first"
    );
}

#[test]
fn namespaces_are_checked() {
    let wrong = with_category("PERMISSIVE", "Releasable To", &["FRA"]).replace(
        NAMESPACE,
        "urn:nato:stanag:4774:confidentialitymetadatalabel:2:0",
    );
    assert_eq!(
        refusal(&wrong),
        "originatorConfidentialityLabel: element originatorConfidentialityLabel is in namespace \"urn:nato:stanag:4774:confidentialitymetadatalabel:2:0\", expected urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
    );
    let none = "<originatorConfidentialityLabel><ConfidentialityInformation/></originatorConfidentialityLabel>";
    assert_eq!(
        refusal(none),
        "originatorConfidentialityLabel: element originatorConfidentialityLabel is in no namespace, expected urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
    );
    let mixed = doc(r#"<x:PolicyIdentifier xmlns:x="urn:other">NATO</x:PolicyIdentifier>"#);
    assert!(refusal(&mixed).starts_with("ConfidentialityInformation/PolicyIdentifier: element PolicyIdentifier is in namespace \"urn:other\""));
    let undeclared = doc("<z:PolicyIdentifier>NATO</z:PolicyIdentifier>");
    assert!(
        refusal(&undeclared).contains("PolicyIdentifier"),
        "{}",
        refusal(&undeclared)
    );
    let foreign_attribute = doc(
        r#"<l:PolicyIdentifier xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x">NATO</l:PolicyIdentifier>"#,
    );
    assert_eq!(
        refusal(&foreign_attribute),
        "ConfidentialityInformation/PolicyIdentifier/@xsi:type: unknown attribute"
    );
}

#[test]
fn unknown_elements_and_attributes_name_their_path() {
    let head =
        "<l:PolicyIdentifier>NATO</l:PolicyIdentifier><l:Classification>SECRET</l:Classification>";
    assert_eq!(
        refusal(&doc(&format!("{head}<l:PrivacyMark>x</l:PrivacyMark>"))),
        "ConfidentialityInformation/PrivacyMark: unknown element"
    );
    assert_eq!(
        refusal(&doc(&format!(
            r#"{head}<l:Category Type="PERMISSIVE" TagName="Releasable To"><l:GenericValue>FRA</l:GenericValue></l:Category><l:Category Type="RESTRICTIVE" TagName="Additional Sensitivity" Colour="red"><l:GenericValue>ATOMAL</l:GenericValue></l:Category>"#
        ))),
        "ConfidentialityInformation/Category[2]/@Colour: unknown attribute"
    );
    assert_eq!(
        refusal(&doc(&format!(
            r#"{head}<l:Category Type="PERMISSIVE" TagName="Releasable To"><l:Value>FRA</l:Value></l:Category>"#
        ))),
        "ConfidentialityInformation/Category[1]/Value: unknown element: a Category holds GenericValue elements"
    );
    assert_eq!(
        refusal(&doc(
            "<l:Classification>SECRET</l:Classification><l:PolicyIdentifier>NATO</l:PolicyIdentifier>"
        )),
        "ConfidentialityInformation/PolicyIdentifier: PolicyIdentifier must come before Classification"
    );
    assert_eq!(
        refusal(&doc(&format!(
            "{head}<l:Classification>SECRET</l:Classification>"
        ))),
        "ConfidentialityInformation/Classification[2]: Classification given more than once"
    );
    assert_eq!(
        refusal(&doc("<l:PolicyIdentifier>NATO</l:PolicyIdentifier>")),
        "ConfidentialityInformation: missing Classification"
    );
    let alternative = with_category("PERMISSIVE", "Releasable To", &["FRA"]).replace(
        "originatorConfidentialityLabel",
        "alternativeConfidentialityLabel",
    );
    assert_eq!(
        refusal(&alternative),
        "alternativeConfidentialityLabel: root element alternativeConfidentialityLabel refused: expected originatorConfidentialityLabel"
    );
    assert_eq!(
        refusal(&doc(&format!("{head}stray text"))),
        "ConfidentialityInformation: unexpected text: this element holds only elements"
    );
}

#[test]
fn policy_identifier_and_oid_are_checked() {
    let with_uri = |uri: &str| {
        doc(&format!(
            r#"<l:PolicyIdentifier URI="{uri}">NATO</l:PolicyIdentifier><l:Classification>SECRET</l:Classification>"#
        ))
    };
    assert_eq!(parse(&with_uri("urn:oid:1.3.26.1.3.1")).policy(), "NATO");
    assert_eq!(
        refusal(&with_uri("urn:oid:1.3.26.1.3.2")),
        "ConfidentialityInformation/PolicyIdentifier/@URI: OID 1.3.26.1.3.2 is not the OID of policy NATO (1.3.26.1.3.1)"
    );
    assert_eq!(
        refusal(&with_uri("urn:oid:1.3.x.1")),
        "ConfidentialityInformation/PolicyIdentifier/@URI: \"1.3.x.1\" is not a valid OID (dotted decimal numbers, as 1.3.26.1.3.1)"
    );
    assert_eq!(
        refusal(&with_uri("urn:oid:01.3")),
        "ConfidentialityInformation/PolicyIdentifier/@URI: \"01.3\" is not a valid OID (dotted decimal numbers, as 1.3.26.1.3.1)"
    );
    assert_eq!(
        refusal(&with_uri("http://example.org/nato")),
        "ConfidentialityInformation/PolicyIdentifier/@URI: \"http://example.org/nato\" is not an OID URI: expected urn:oid:<dotted numbers>"
    );
    let unknown = doc(
        "<l:PolicyIdentifier>NAT0</l:PolicyIdentifier><l:Classification>SECRET</l:Classification>",
    );
    assert_eq!(
        refusal(&unknown),
        "ConfidentialityInformation/PolicyIdentifier: unknown policy \"NAT0\"; did you mean \"NATO\"?"
    );
    let err = from_xml(policies(), &unknown).unwrap_err();
    assert!(matches!(err.kind(), LabelErrorKind::UnknownPolicy { .. }));
    let unknown_level = doc(
        "<l:PolicyIdentifier>NATO</l:PolicyIdentifier><l:Classification>SECRT</l:Classification>",
    );
    assert_eq!(
        refusal(&unknown_level),
        "ConfidentialityInformation/Classification: unknown classification \"SECRT\"; did you mean \"SECRET\"?"
    );
}

#[test]
fn categories_are_checked() {
    assert_eq!(
        refusal(&with_category("permissive", "Releasable To", &["FRA"])),
        "ConfidentialityInformation/Category[1]/@Type: category type \"permissive\": expected PERMISSIVE, RESTRICTIVE or INFORMATIVE"
    );
    assert_eq!(
        refusal(&with_category("RESTRICTIVE", "Releasable To", &["FRA"])),
        "ConfidentialityInformation/Category[1]/@Type: category \"Releasable To\" must be PERMISSIVE, not RESTRICTIVE"
    );
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Additional Sensitivity", &["ATOMAL"])),
        "ConfidentialityInformation/Category[1]/@Type: category \"Additional Sensitivity\" must be RESTRICTIVE, not PERMISSIVE"
    );
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Only", &["FRA"])),
        "ConfidentialityInformation/Category[1]/@TagName: unknown category \"Only\": expected \"Releasable To\", \"Additional Sensitivity\" or \"Context\""
    );
    assert_eq!(
        refusal(&with_category("RESTRICTIVE", "Additional Sensitivity", &["NOFORN"])),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: unknown additional sensitivity value \"NOFORN\""
    );
    assert_eq!(
        refusal(&with_category("RESTRICTIVE", "Additional Sensitivity", &[])),
        "ConfidentialityInformation/Category[1]: expected at least one GenericValue"
    );
    assert_eq!(
        refusal(&with_category(
            "PERMISSIVE",
            "Releasable To",
            &["FRA", "GBR", "FRA"]
        )),
        "ConfidentialityInformation/Category[1]/GenericValue[3]: duplicate value \"FRA\""
    );
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Releasable To", &["NONE"])),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: NONE is not a release token: an empty \"Releasable To\" category means releasable to nobody"
    );
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Releasable To", &["fra"])),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: bad release token \"fra\": only capital letters, digits and '-'"
    );
    assert_eq!(
        refusal(&with_category("PERMISSIVE", "Releasable To", &[""])),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: expected a value"
    );
    let twice = doc(
        r#"<l:PolicyIdentifier>NATO</l:PolicyIdentifier><l:Classification>SECRET</l:Classification><l:Category Type="RESTRICTIVE" TagName="Additional Sensitivity"><l:GenericValue>ATOMAL</l:GenericValue></l:Category><l:Category Type="RESTRICTIVE" TagName="Additional Sensitivity"><l:GenericValue>CRYPTO</l:GenericValue></l:Category>"#,
    );
    assert_eq!(
        refusal(&twice),
        "ConfidentialityInformation/Category[2]: a second \"Additional Sensitivity\" category"
    );
}

#[test]
fn lookalike_and_invisible_characters_are_refused() {
    // Cyrillic capital A (U+0410) in FRA.
    let homoglyph = with_category("PERMISSIVE", "Releasable To", &["FR\u{0410}"]);
    let err = from_xml(policies(), &homoglyph).unwrap_err();
    assert!(matches!(err.kind(), LabelErrorKind::BadReleaseToken { .. }));
    assert_eq!(
        err.to_string(),
        "ConfidentialityInformation/Category[1]/GenericValue[1]: bad release token \"FRА\": only ASCII letters, digits and '-' (a lookalike letter?)"
    );
    for (value, codepoint) in [
        ("FR\u{200B}A", 0x200B),
        ("FRA&#x200B;", 0x200B),
        ("\u{202E}ARF", 0x202E),
        ("FRA&#xFEFF;", 0xFEFF),
        ("FRA&#9;", 0x9),
    ] {
        let err = from_xml(
            policies(),
            &with_category("PERMISSIVE", "Releasable To", &[value]),
        )
        .unwrap_err();
        assert_eq!(
            err.kind(),
            &LabelErrorKind::ForbiddenCharacter { codepoint },
            "{value}: {err}"
        );
        assert_eq!(
            err.context(),
            "ConfidentialityInformation/Category[1]/GenericValue[1]"
        );
    }
    let in_caveat = with_category("RESTRICTIVE", "Additional Sensitivity", &["ATO\u{200D}MAL"]);
    assert!(matches!(
        from_xml(policies(), &in_caveat).unwrap_err().kind(),
        LabelErrorKind::ForbiddenCharacter { codepoint: 0x200D }
    ));
    let in_originator = RESEARCH_EXAMPLE.replace("ops@example.org", "ops@exa\u{2060}mple.org");
    assert_eq!(
        refusal(&in_originator),
        "OriginatorID: forbidden character U+2060 (invisible, bidirectional or control)"
    );
}

#[test]
fn sizes_are_capped() {
    let ten_thousand: Vec<String> = (0..10_000).map(|i| format!("N{i:04}")).collect();
    let refs: Vec<&str> = ten_thousand.iter().map(String::as_str).collect();
    let xml = with_category("PERMISSIVE", "Releasable To", &refs);
    assert!(xml.len() > MAX_XML_BYTES);
    let err = from_xml(policies(), &xml).unwrap_err();
    assert_eq!(
        err.to_string(),
        "xml: too many bytes in an XML label: at most 65536"
    );
    // Under the byte limit, the value count is what stops it.
    let three_hundred: Vec<String> = (0..300).map(|i| format!("N{i:03}")).collect();
    let refs: Vec<&str> = three_hundred.iter().map(String::as_str).collect();
    let xml = with_category("PERMISSIVE", "Releasable To", &refs);
    assert!(xml.len() < MAX_XML_BYTES);
    assert_eq!(
        refusal(&xml),
        "ConfidentialityInformation/Category[1]: too many category values: at most 256"
    );
    // Many small categories: the element count stops them before any label is built.
    let many: String = (0..400)
        .map(|_| r#"<l:Category Type="PERMISSIVE" TagName="Releasable To"/>"#)
        .collect();
    assert_eq!(
        refusal(&doc(&format!(
            "<l:PolicyIdentifier>NATO</l:PolicyIdentifier><l:Classification>SECRET</l:Classification>{many}"
        ))),
        "ConfidentialityInformation: too many XML elements: at most 320"
    );
    let deep = format!(
        "{}{}",
        "<l:GenericValue>".repeat(20),
        "</l:GenericValue>".repeat(20)
    );
    let err = refusal(&doc(&deep));
    assert!(err.ends_with("elements nested deeper than 8"), "{err}");
}

#[test]
fn broken_documents_are_refused() {
    assert_eq!(
        refusal(""),
        "xml: empty document: expected an originatorConfidentialityLabel"
    );
    assert_eq!(
        refusal("  \n"),
        "xml: empty document: expected an originatorConfidentialityLabel"
    );
    assert_eq!(
        refusal("<!-- only a comment -->"),
        "xml: no root element: expected an originatorConfidentialityLabel"
    );
    let unclosed = format!(
        "<l:originatorConfidentialityLabel xmlns:l=\"{NAMESPACE}\"><l:ConfidentialityInformation>"
    );
    assert_eq!(
        refusal(&unclosed),
        "ConfidentialityInformation: unexpected end of input: element not closed"
    );
    let mismatched = doc("<l:PolicyIdentifier>NATO</l:Classification>");
    assert!(
        refusal(&mismatched).contains("not well-formed XML at byte"),
        "{}",
        refusal(&mismatched)
    );
    let two_roots = format!("{}{}", doc(""), doc(""));
    assert_eq!(
        refusal(&two_roots),
        "xml: element originatorConfidentialityLabel after the root element"
    );
    let trailing = format!("{} trailing", parse_ok_doc());
    assert_eq!(refusal(&trailing), "xml: text outside the root element");
    let bad_time = RESEARCH_EXAMPLE.replace("2026-01-10T12:00:00Z", "10/01/2026");
    assert!(refusal(&bad_time).starts_with("CreationDateTime: malformed time \"10/01/2026\""));
    let both = RESEARCH_EXAMPLE.replace(
        "</slab:originatorConfidentialityLabel>",
        "<slab:ReviewDateTime>2031-01-01T00:00:00Z</slab:ReviewDateTime></slab:originatorConfidentialityLabel>",
    );
    assert_eq!(
        refusal(&both),
        "ReviewDateTime: ReviewDateTime given both as an element and as an attribute of the root"
    );
    let bad_id_type = RESEARCH_EXAMPLE.replace("rfc822Name", "email");
    assert!(refusal(&bad_id_type).starts_with("OriginatorID/@IDType: unknown IDType \"email\""));
}

fn parse_ok_doc() -> String {
    with_category("PERMISSIVE", "Releasable To", &["FRA"])
}

/// A random label over every shipped policy: any level, any of its caveats and contexts, up to
/// three release sets (possibly empty), and optional originator and times.
fn arb_label() -> impl Strategy<Value = Label> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "FRA", "GBR", "USA", "DEU", "SWE", "NATO", "EU", "FVEY"
        ])
        .prop_map(str::to_owned),
        "[A-Z][A-Z0-9-]{1,15}".prop_filter("NONE is the empty set", |t| t != "NONE"),
    ];
    let time = (0i64..4_102_444_800, prop::bool::ANY).prop_map(|(secs, offset)| {
        let utc = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        if offset {
            utc.with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap())
                .to_rfc3339()
        } else {
            utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        }
    });
    (
        0usize..64,
        0usize..64,
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(prop::collection::btree_set(token, 0..5), 0..3),
        prop::option::of("[ -~]{1,40}|[a-z.]{1,12}@[a-z]{1,8}\\.org|[Ѐ-ӿ éèü]{1,10}"),
        prop::option::of(time.clone()),
        prop::option::of(time),
    )
        .prop_map(
            |(p, level, caveat_mask, context_mask, sets, originator, created, review)| {
                let all = policies();
                let policy = all.iter().nth(p % all.iter().count()).unwrap();
                let level = &policy.levels[level % policy.levels.len()].name;
                let mut label = Label::new(all, &policy.id, level).unwrap();
                for set in sets {
                    label = label
                        .with_releasable_to(set.iter().map(|t| ReleaseToken::parse(t).unwrap()))
                        .unwrap();
                }
                for (i, c) in policy.caveats.iter().enumerate() {
                    if caveat_mask & (1 << (i % 8)) != 0 {
                        label = label.with_caveat(all, c).unwrap();
                    }
                }
                for (i, c) in policy.contexts.iter().enumerate() {
                    if context_mask & (1 << (i % 8)) != 0 {
                        label = label.with_context(all, c).unwrap();
                    }
                }
                if let Some(o) = originator {
                    label = label.with_originator(&o).unwrap();
                }
                if let Some(t) = created {
                    label = label.with_created(&t).unwrap();
                }
                if let Some(t) = review {
                    label = label.with_review(&t).unwrap();
                }
                label
            },
        )
}

proptest! {
    #[test]
    fn every_label_round_trips_through_every_form(label in arb_label()) {
        let p = policies();
        let xml = to_xml(p, &label).unwrap();
        let back = from_xml(p, &xml).unwrap();
        prop_assert_eq!(&back, &label);
        // label → JSON → label → XML → label
        let md = stix::to_marking_definition(p, &label).unwrap();
        let from_json = stix::from_marking_definition(p, &md).unwrap();
        prop_assert_eq!(&from_xml(p, &to_xml(p, &from_json).unwrap()).unwrap(), &label);
        // marking → label → XML → label → marking
        let marking = render_marking(p, &label).unwrap();
        let parsed = parse_marking(p, &marking).unwrap();
        let through_xml = from_xml(p, &to_xml(p, &parsed).unwrap()).unwrap();
        prop_assert_eq!(render_marking(p, &through_xml).unwrap(), marking);
    }

    /// Whatever the text, the reader answers with a label or an error, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "(<[a-zA-Z:/?!]{0,12}[ =\"'&;#x0-9a-z]{0,12}>?|[^<]{0,8}){0,24}") {
        let _ = from_xml(policies(), &text);
    }
}

/// Found by the `stix_json` fuzz target (fuzz/regressions/stix_json/): the JSON form took `NONE`
/// as a release token, and the marking written for such a label does not read back
/// (`REL TO FVEY, NONE` is refused, `REL TO NONE` is the empty set).
#[test]
fn json_refuses_none_as_a_release_token() {
    let label = parse_marking(
        policies(),
        "NATO CONFIDENTIAL//REL TO FRA//REL TO FVEY, NATO",
    )
    .unwrap();
    let md = stix::to_marking_definition(policies(), &label).unwrap();
    for replacement in [r#"["FVEY", "NONE"]"#, r#"["NONE"]"#] {
        let text = md
            .to_string()
            .replace(r#"["FVEY","NATO"]"#, &replacement.replace(' ', ""));
        assert_ne!(text, md.to_string());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let err = stix::from_marking_definition(policies(), &value).unwrap_err();
        assert!(
            err.to_string()
                .contains("categories[1].values[1]: NONE is not a release token")
                || err
                    .to_string()
                    .contains("categories[1].values[0]: NONE is not a release token"),
            "{err}"
        );
    }
}
