//! Registry sign-in (the distribution token flow): a `WWW-Authenticate`
//! challenge, then Basic credentials or a bearer token from the realm the
//! challenge names. Token responses are capped like every other body.

use super::{Credentials, OciError};
use std::collections::BTreeMap;

/// Largest token response read.
pub(crate) const MAX_TOKEN_RESPONSE: u64 = 1 << 20;

/// What a 401 response asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// HTTP Basic.
    Basic,
    /// A bearer token from `realm`, for `service` and `scope`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The service parameter, if any.
        service: Option<String>,
        /// The scope the registry asked for, if any.
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value (one challenge; the first
/// scheme this client knows wins).
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `key="value", key=value, ...` with quoted strings and backslash escapes.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// The token a token endpoint answered with.
#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

/// Gets a bearer token from `realm` for `scope`, signing in with
/// `credentials`. The realm must be https (or plain http on loopback): a
/// password never travels in clear over a network.
pub(crate) fn fetch_token(
    http: &reqwest::blocking::Client,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    credentials: &Credentials,
) -> Result<String, OciError> {
    let mut url = reqwest::Url::parse(realm)
        .map_err(|e| OciError::Registry(format!("token realm {realm:?}: {e}")))?;
    if !crate::http::allowed(&url) {
        return Err(OciError::Registry(format!(
            "token realm {realm} refused: credentials go only over https (plain http only on loopback)"
        )));
    }
    let request = match credentials {
        Credentials::IdentityToken(refresh) => {
            // OAuth2 refresh-token grant, as the docker CLI does with an
            // identity token.
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh.clone()),
                ("client_id", "modelseal".to_string()),
                ("scope", scope.to_string()),
            ];
            if let Some(s) = service {
                form.push(("service", s.to_string()));
            }
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", url_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            http.post(url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
        }
        _ => {
            {
                let mut query = url.query_pairs_mut();
                if let Some(s) = service {
                    query.append_pair("service", s);
                }
                query.append_pair("scope", scope);
            }
            let request = http.get(url);
            match credentials {
                Credentials::Basic { username, password } => {
                    request.basic_auth(username, Some(password))
                }
                _ => request,
            }
        }
    };
    let response = request.send().map_err(|e| {
        let text = format!("token request to {realm}: {e}");
        if e.is_timeout() || e.is_connect() {
            OciError::Unavailable(text)
        } else {
            OciError::Registry(text)
        }
    })?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(OciError::Unavailable(format!(
            "sign-in at {realm}: HTTP {status}"
        )));
    }
    let body = super::client::read_capped(response, MAX_TOKEN_RESPONSE, "token response")?;
    if !status.is_success() {
        return Err(OciError::Registry(format!(
            "sign-in at {realm} failed: HTTP {status}{}",
            if matches!(credentials, Credentials::Anonymous) {
                " (no credentials were given)"
            } else {
                ""
            }
        )));
    }
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| OciError::Registry(format!("token response from {realm}: {e}")))?;
    parsed
        .token
        .or(parsed.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OciError::Registry(format!("{realm} answered without a token")))
}

/// Percent-encodes a form value.
fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/m:pull""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:team/m:pull".into()),
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
    }
}
