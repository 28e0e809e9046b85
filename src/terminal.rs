//! Text from Graph on a terminal: control characters, escape sequences and bidi overrides are
//! shown escaped and visible, so a hostile subject can neither move the cursor, recolour the
//! screen nor reorder what the analyst reads. Exports keep the data exact; only display
//! goes through here.

/// Bidirectional-text controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI) and marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `s` holds a bidi control (a display name with one deserves a flag).
pub fn has_bidi_control(s: &str) -> bool {
    s.chars().any(is_bidi_control)
}

/// `s` made safe for a terminal: C0/C1 controls, DEL, bidi controls and zero-width
/// characters become visible escapes (`\x1b`, `\u{202e}`); everything else is kept.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f || (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_bidi_control(c)
                || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}') =>
            {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Display width of terminal text in cells (wide characters take two).
pub fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

/// `s` cut to at most `max` cells, the cut marked with `…`.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// The terminal's width when stdout is one; `None` for a pipe or a file, which get every
/// value whole.
pub fn stdout_width() -> Option<usize> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| usize::from(w))
        .filter(|&w| w > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_become_visible() {
        assert_eq!(
            clean("\u{1b}[31mURGENT\u{1b}[0m"),
            "\\x1b[31mURGENT\\x1b[0m"
        );
        assert_eq!(clean("Micro\u{202e}tfos"), "Micro\\u{202e}tfos");
        assert_eq!(clean("a\u{9b}b\u{7}"), "a\\x9bb\\x07");
        assert_eq!(clean("日本語 🎉 ok"), "日本語 🎉 ok");
        assert!(has_bidi_control("x\u{2066}y"));
        assert!(!has_bidi_control("plain"));
    }
}
