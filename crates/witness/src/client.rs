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

/// Calls `add-checkpoint` on the witness at `prefix`, all of it within
/// `timeout`.
pub fn add_checkpoint(
    prefix: &str,
    old: u64,
    proof: &[Hash],
    note: &str,
    timeout: Duration,
) -> Result<Answer, String> {
    if proof.len() > MAX_PROOF {
        return Err(format!("a consistency proof of {} hashes", proof.len()));
    }
    let url = reqwest::Url::parse(&format!("{prefix}/add-checkpoint"))
        .map_err(|e| format!("{prefix}: not a URL ({e})"))?;
    if !allowed(&url) {
        return Err(format!(
            "{prefix}: witnesses are called over https (plain http only on loopback)"
        ));
    }
    let deadline = Instant::now() + timeout;
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("modelseal/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
    let response = client
        .post(url)
        .body(request_body(old, proof, note))
        .send()
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", timeout.as_secs())
            } else {
                format!("unreachable ({})", one_line(&e.to_string()))
            }
        })?;
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    let mut body = response.take(MAX_ANSWER + 1);
    let mut chunk = [0u8; 8192];
    loop {
        if Instant::now() > deadline {
            return Err(format!(
                "the answer took longer than {} s",
                timeout.as_secs()
            ));
        }
        let n = body
            .read(&mut chunk)
            .map_err(|e| format!("reading the answer: {}", one_line(&e.to_string())))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    if bytes.len() as u64 > MAX_ANSWER {
        return Err(format!("an answer over {} KiB", MAX_ANSWER >> 10));
    }
    let text = String::from_utf8(bytes).map_err(|_| "an answer that is not UTF-8".to_string())?;
    match status {
        200 => {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.is_empty() || lines.iter().any(|l| !l.starts_with("\u{2014} ")) {
                return Err("a 200 answer that is not signature lines".into());
            }
            Ok(Answer::Cosigned(lines))
        }
        409 => {
            let size = text
                .strip_suffix('\n')
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| "a 409 answer without a size".to_string())?;
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
