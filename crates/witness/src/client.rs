//! The tlog-witness `add-checkpoint` call: `POST <prefix>/add-checkpoint`
//! with the size the witness is believed to hold, a consistency proof from
//! it, and the log-signed checkpoint. Answers are bounded in size and time;
//! no redirect is followed (the request would go where the answer points).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use modelseal_evidence::merkle::Hash;
use std::io::Read;
use std::time::{Duration, Instant};

/// Largest answer read from a witness.
const MAX_ANSWER: u64 = 64 << 10;
/// Most consistency proof lines the protocol allows.
pub const MAX_PROOF: usize = 63;

/// What a witness answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: its signature lines (not yet verified).
    Cosigned(Vec<String>),
    /// 409: the size of the latest checkpoint it cosigned for the log.
    Conflict(u64),
    /// Another status, with the first line of the answer.
    Refused(u16, String),
}

/// Whether `url` may be called: https, or plain http to a loopback host.
fn allowed(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// The request body: `old N`, the proof lines, a blank line, the note.
pub fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for h in proof {
        body.push_str(&STANDARD.encode(h));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Why a witness could not be asked, or answered nothing usable
/// ([`add_checkpoint`]). Messages about the network or the answer are
/// one line, without control characters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// More consistency proof hashes than the protocol allows.
    #[error("a consistency proof of {hashes} hashes")]
    ProofTooLong {
        /// The number of hashes.
        hashes: usize,
    },
    /// The witness's prefix does not make a URL.
    #[error("{prefix}: not a URL ({source})")]
    NotUrl {
        /// The prefix.
        prefix: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// The URL is not https (plain http is allowed on loopback only).
    #[error("{prefix}: witnesses are called over https (plain http only on loopback)")]
    NotHttps {
        /// The prefix.
        prefix: String,
    },
    /// The HTTP client cannot be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// No answer came within the timeout.
    #[error("no answer within {} s", .timeout.as_secs())]
    NoAnswer {
        /// The timeout.
        timeout: Duration,
        /// The request's error.
        #[source]
        source: reqwest::Error,
    },
    /// The witness could not be reached.
    #[error("unreachable ({})", one_line(&.0.to_string()))]
    Unreachable(#[source] reqwest::Error),
    /// The answer took longer than the timeout to read.
    #[error("the answer took longer than {} s", .timeout.as_secs())]
    TooSlow {
        /// The timeout.
        timeout: Duration,
    },
    /// The answer could not be read.
    #[error("reading the answer: {}", one_line(&.0.to_string()))]
    Read(#[source] std::io::Error),
    /// The answer is larger than any answer may be.
    #[error("an answer over {} KiB", .max >> 10)]
    TooLarge {
        /// The most bytes read.
        max: u64,
    },
    /// The answer is not UTF-8.
    #[error("an answer that is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// A 200 answer that is not signature lines.
    #[error("a 200 answer that is not signature lines")]
    NotSignatureLines,
    /// A 409 answer without the size the witness holds.
    #[error("a 409 answer without a size")]
    NoSize,
}

/// Calls `add-checkpoint` on the witness at `prefix`, all of it within
/// `timeout`.
pub fn add_checkpoint(
    prefix: &str,
    old: u64,
    proof: &[Hash],
    note: &str,
    timeout: Duration,
) -> Result<Answer, AskError> {
    if proof.len() > MAX_PROOF {
        return Err(AskError::ProofTooLong {
            hashes: proof.len(),
        });
    }
    let url = reqwest::Url::parse(&format!("{prefix}/add-checkpoint")).map_err(|source| {
        AskError::NotUrl {
            prefix: prefix.to_string(),
            source,
        }
    })?;
    if !allowed(&url) {
        return Err(AskError::NotHttps {
            prefix: prefix.to_string(),
        });
    }
    let deadline = Instant::now() + timeout;
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("modelseal/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(AskError::Client)?;
    let response = client
        .post(url)
        .body(request_body(old, proof, note))
        .send()
        .map_err(|source| {
            if source.is_timeout() {
                AskError::NoAnswer { timeout, source }
            } else {
                AskError::Unreachable(source)
            }
        })?;
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    let mut body = response.take(MAX_ANSWER + 1);
    let mut chunk = [0u8; 8192];
    loop {
        if Instant::now() > deadline {
            return Err(AskError::TooSlow { timeout });
        }
        let n = body.read(&mut chunk).map_err(AskError::Read)?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    if bytes.len() as u64 > MAX_ANSWER {
        return Err(AskError::TooLarge { max: MAX_ANSWER });
    }
    let text = String::from_utf8(bytes).map_err(|e| AskError::NotUtf8(e.utf8_error()))?;
    match status {
        200 => {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.is_empty() || lines.iter().any(|l| !l.starts_with("\u{2014} ")) {
                return Err(AskError::NotSignatureLines);
            }
            Ok(Answer::Cosigned(lines))
        }
        409 => {
            let size = text
                .strip_suffix('\n')
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(AskError::NoSize)?;
            Ok(Answer::Conflict(size))
        }
        other => Ok(Answer::Refused(other, one_line(&text))),
    }
}

/// The first line of `text`, without control characters, at most 200
/// characters.
fn one_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A one-shot server on loopback answering `answer` (raw HTTP bytes),
    /// after `delay`; returns its URL prefix.
    fn hostile(answer: Vec<u8>, delay: Duration) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            std::thread::sleep(delay);
            let mut stream = stream;
            let _ = stream.write_all(&answer);
        });
        url
    }

    fn http(status: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn ask(url: &str) -> Result<Answer, AskError> {
        add_checkpoint(
            url,
            0,
            &[],
            "log\n1\nAAAA\n\n\u{2014} log x\n",
            Duration::from_secs(2),
        )
    }

    #[test]
    fn bad_answers_are_named_and_bounded() {
        let garbage = hostile(http("200 OK", b"not a signature line\n"), Duration::ZERO);
        let err = ask(&garbage).unwrap_err();
        assert!(matches!(err, AskError::NotSignatureLines), "{err}");
        assert_eq!(err.to_string(), "a 200 answer that is not signature lines");
        let conflict = hostile(http("409 Conflict", b"twelve\n"), Duration::ZERO);
        let err = ask(&conflict).unwrap_err();
        assert!(matches!(err, AskError::NoSize), "{err}");
        assert_eq!(err.to_string(), "a 409 answer without a size");
        let huge = hostile(http("200 OK", &vec![b'a'; 100 << 10]), Duration::ZERO);
        let err = ask(&huge).unwrap_err();
        assert!(matches!(err, AskError::TooLarge { .. }), "{err}");
        assert_eq!(err.to_string(), "an answer over 64 KiB");
        let slow = hostile(http("200 OK", b""), Duration::from_secs(4));
        let err = ask(&slow).unwrap_err().to_string();
        assert!(
            err == "no answer within 2 s" || err == "the answer took longer than 2 s",
            "{err}"
        );
        let refused = hostile(http("403 Forbidden", b"unknown key\n"), Duration::ZERO);
        assert_eq!(
            ask(&refused).unwrap(),
            Answer::Refused(403, "unknown key".into())
        );
        assert_eq!(
            ask(&hostile(http("409 Conflict", b"7\n"), Duration::ZERO)).unwrap(),
            Answer::Conflict(7)
        );
        // Plain http is for loopback only.
        let err = ask("http://witness.example").unwrap_err();
        assert!(matches!(err, AskError::NotHttps { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "http://witness.example: witnesses are called over https (plain http only on loopback)"
        );
        let err = ask("not a url").unwrap_err();
        assert!(matches!(err, AskError::NotUrl { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "not a url: not a URL (relative URL without a base)"
        );
    }
}
