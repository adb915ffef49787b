//! Untrusted text (file names, model names, reasons quoting them, signer
//! identities) made safe for each report: it cannot forge a table row, a
//! line, markup, or drive a terminal.

use std::borrow::Cow;

/// Control characters and bidirectional overrides, which reorder or hide
/// text on screen.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// For a terminal or any line-oriented text: control characters and bidi
/// overrides are written as visible escapes (`\n`, `\u{1b}`).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The characters that make Markdown (GitHub-flavoured) structure inside
/// a line: escapes, code, emphasis, strikethrough, links and images, HTML
/// and entities, and table cell borders.
const MARKDOWN_SPECIAL: &[char] = &['\\', '`', '*', '_', '~', '[', ']', '!', '<', '>', '&', '|'];

/// For Markdown prose and table cells (never at the start of a line):
/// [`text`], then every character that could make structure
/// backslash-escaped, so nothing becomes a link, emphasis, HTML, code or a
/// cell border, and no line break can start a row or a heading.
pub fn markdown(s: &str) -> String {
    let visible = text(s);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        if MARKDOWN_SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// For HTML text and attribute values: [`text`], then `& < > " '` as
/// character references.
pub fn html(s: &str) -> String {
    let visible = text(s);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "evil|name\n| 9 | forged | pass |\r\u{1b}[31mred\u{1b}[0m <script>alert(1)</script> `x` [l](http://e) \u{202e}txt";

    #[test]
    fn terminal_text_has_no_control_characters() {
        let t = text(HOSTILE);
        assert!(!t.chars().any(|c| c.is_control()), "{t}");
        assert!(!t.contains('\u{202e}'));
        assert!(t.contains("\\n") && t.contains("\\u{1b}"), "{t}");
        assert_eq!(text("plain name"), "plain name");
    }

    #[test]
    fn markdown_cannot_open_a_cell_a_line_a_link_or_markup() {
        let m = markdown(HOSTILE);
        assert!(!m.contains('\n') && !m.contains('\r'));
        // Every pipe, bracket, backtick and angle bracket is escaped.
        for (i, c) in m.char_indices() {
            if matches!(c, '|' | '[' | ']' | '`' | '<' | '>') {
                assert_eq!(&m[i - 1..i], "\\", "{c} at {i} in {m}");
            }
        }
    }

    #[test]
    fn html_cannot_open_a_tag_or_an_attribute() {
        let h = html(HOSTILE);
        assert!(!h.contains('<') && !h.contains('>') && !h.contains('"'));
        assert!(h.contains("&lt;script&gt;"));
        assert!(!h.contains('\u{1b}'));
        assert_eq!(html("a & b"), "a &amp; b");
    }
}
