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

    fn ask(url: &str) -> Result<Answer, String> {
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
        assert!(ask(&garbage).unwrap_err().contains("not signature lines"));
        let conflict = hostile(http("409 Conflict", b"twelve\n"), Duration::ZERO);
        assert!(ask(&conflict).unwrap_err().contains("without a size"));
        let huge = hostile(http("200 OK", &vec![b'a'; 100 << 10]), Duration::ZERO);
        assert!(ask(&huge).unwrap_err().contains("over 64 KiB"));
        let slow = hostile(http("200 OK", b""), Duration::from_secs(4));
        let err = ask(&slow).unwrap_err();
        assert!(
            err.contains("no answer within 2 s") || err.contains("longer than"),
            "{err}"
        );
        let refused = hostile(http("403 Forbidden", b"unknown key\n"), Duration::ZERO);
        assert_eq!(
            ask(&refused),
            Ok(Answer::Refused(403, "unknown key".into()))
        );
        assert_eq!(
            ask(&hostile(http("409 Conflict", b"7\n"), Duration::ZERO)),
            Ok(Answer::Conflict(7))
        );
        // Plain http is for loopback only.
        assert!(ask("http://witness.example").unwrap_err().contains("https"));
    }
}
