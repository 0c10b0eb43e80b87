//! A small reader of `multipart/form-data` bodies (RFC 7578), enough for the two uploads of
//! the pages (a policy file, a logo). axum's `multipart` feature would pull `multer` and its
//! streaming machinery for bodies that the default 2 MB limit already keeps in memory.

use axum::http::{header, HeaderMap};

use crate::error::WebError;

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Set for a file input (possibly empty when no file was chosen).
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Field {
    /// The field as text (lossy: a form's text fields are UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The fields of a form, in order.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<Field>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|f| f.name == name)
    }

    /// A text field, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(Field::text).unwrap_or_default()
    }

    /// A file field that carries bytes.
    pub fn file(&self, name: &str) -> Option<&Field> {
        self.get(name).filter(|f| !f.data.is_empty())
    }
}

fn boundary(headers: &HeaderMap) -> Result<String, WebError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (kind, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(WebError::BadRequest(
            "the form must be sent as multipart/form-data".into(),
        ));
    }
    params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| WebError::BadRequest("multipart form without a boundary".into()))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// A parameter of a `Content-Disposition` header (`name="x"`).
fn param(header: &str, wanted: &str) -> Option<String> {
    let mut rest = header;
    while let Some(i) = rest.find(wanted) {
        let before = rest[..i].chars().last();
        let after = &rest[i + wanted.len()..];
        if matches!(before, Some(' ' | ';')) {
            if let Some(value) = after.strip_prefix("=\"") {
                return value.find('"').map(|end| value[..end].to_string());
            }
        }
        rest = after;
    }
    None
}

/// Splits the body into its fields. Refuses a body that is not a well-formed form.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Fields, WebError> {
    let bad = |what: &str| WebError::BadRequest(format!("malformed multipart form: {what}"));
    let boundary = boundary(headers)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or_else(|| bad("no boundary"))? + delimiter.len();
    let mut fields = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(bad("boundary not followed by a line break"));
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(|| bad("part without headers"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let data_start = head_end + 4;
        let data_end =
            find(body, &next_delimiter, data_start).ok_or_else(|| bad("unterminated part"))?;
        let mut name = None;
        let mut file_name = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(value, "name");
                file_name = param(value, "filename");
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_string());
            }
        }
        fields.push(Field {
            name: name.ok_or_else(|| bad("part without a name"))?,
            file_name,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delimiter.len();
        if pos > body.len() {
            return Err(bad("truncated"));
        }
    }
    Ok(Fields(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        h
    }

    #[test]
    fn reads_text_and_file_fields() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"l.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--X\xff\r\n--XyZ--\r\n";
        let fields = parse(&headers(), body).expect("parses");
        assert_eq!(fields.text("csrf"), "abc");
        let logo = fields.file("logo").expect("file");
        assert_eq!(logo.file_name.as_deref(), Some("l.jpg"));
        assert_eq!(logo.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(logo.data, b"\xff\xd8\r\n--X\xff");
        assert!(fields.get("other").is_none());
    }

    #[test]
    fn refuses_what_is_not_a_form() {
        assert!(parse(
            &headers(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"
        )
        .is_err());
        assert!(parse(&HeaderMap::new(), b"").is_err());
        assert!(parse(&headers(), b"nothing").is_err());
    }
}
