//! Just enough `multipart/form-data` (RFC 7578) for the upload form: its parts' names, file
//! names and bodies. The console takes no multipart library for one form.

/// One part of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

/// The parts of a `multipart/form-data` body whose `Content-Type` is `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let (kind, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!(
            "the form was sent as {:?}, not multipart/form-data",
            kind.trim()
        ));
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or("the form has no multipart boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = match find(body, &delimiter) {
        Some(at) => &body[at + delimiter.len()..],
        None => return Err("the form has no part".into()),
    };
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a part boundary is not followed by a line end")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("a part has no end of its headers")?;
        let head =
            std::str::from_utf8(&rest[..head_end]).map_err(|_| "a part's headers are not UTF-8")?;
        let after = &rest[head_end + 4..];
        let mut next = b"\r\n".to_vec();
        next.extend_from_slice(&delimiter);
        let end = find(after, &next).ok_or("the form ends inside a part")?;
        let (name, filename) = disposition(head).ok_or("a part has no form-data name")?;
        parts.push(Part {
            name,
            filename,
            body: after[..end].to_vec(),
        });
        rest = &after[end + next.len()..];
    }
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.split("\r\n").find(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut filename = None;
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name?, filename))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FORM: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n--XyZ\r\nContent-Disposition: form-data; name=\"run\"; filename=\"run.json\"\r\nContent-Type: application/json\r\n\r\n{\"a\":\r\n1}\r\n--XyZ--\r\n";

    #[test]
    fn parts_are_named_with_their_bodies() {
        let parts = parse("multipart/form-data; boundary=XyZ", FORM.as_bytes()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].body.as_slice()),
            ("csrf", &b"token"[..])
        );
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[1].name, "run");
        assert_eq!(parts[1].filename.as_deref(), Some("run.json"));
        assert_eq!(parts[1].body, b"{\"a\":\r\n1}");
    }

    #[test]
    fn malformed_forms_say_what_is_wrong() {
        assert_eq!(
            parse("application/json", b"{}").unwrap_err(),
            "the form was sent as \"application/json\", not multipart/form-data"
        );
        assert_eq!(
            parse("multipart/form-data", FORM.as_bytes()).unwrap_err(),
            "the form has no multipart boundary"
        );
        let cut = &FORM[..FORM.len() - 20];
        assert_eq!(
            parse("multipart/form-data; boundary=XyZ", cut.as_bytes()).unwrap_err(),
            "the form ends inside a part"
        );
    }
}
