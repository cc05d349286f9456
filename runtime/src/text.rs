//! Text that came from a server, made safe to print.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: C0 and C1 control characters (escape
/// sequences start with one), DEL, and the bidirectional overrides and isolates that reorder
/// what is displayed.
pub fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unprintable character ([`is_unprintable`]) written as a `\u{..}` escape,
/// so that a message from a server can be shown without moving the cursor, changing colours
/// or reordering the line. Borrowed when there is nothing to escape.
///
/// ```
/// use trusthub_runtime::text::printable;
///
/// assert_eq!(printable("Invalid parameter"), "Invalid parameter");
/// assert_eq!(printable("\u{1b}[2Jcleared"), "\\u{1b}[2Jcleared");
/// assert_eq!(printable("a\nb"), "a\\u{a}b");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
