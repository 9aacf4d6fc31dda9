//! The hex input of `mqttspec decode`: arguments, or standard input for `-`.

use std::io::Read;

/// Joins the arguments (each may hold spaces) and reads them as hex.
/// White space, commas, colons and `0x` prefixes are ignored; any other
/// character, or an odd number of digits, is an error naming its position.
pub fn parse_args(args: &[String], stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    let mut text = String::new();
    for a in args {
        if a == "-" {
            let mut buf = String::new();
            stdin
                .read_to_string(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            text.push_str(&buf);
        } else {
            text.push_str(a);
        }
        text.push(' ');
    }
    parse(&text)
}

pub fn parse(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == ':') {
        let token = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
            .unwrap_or(token);
        for c in token.chars() {
            let d = c.to_digit(16).ok_or_else(|| {
                format!("`{c}` is not a hex digit (after {} digits)", digits.len())
            })?;
            digits.push(d as u8);
        }
    }
    if digits.is_empty() {
        return Err("no hex digits given".into());
    }
    if digits.len() % 2 == 1 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_joined_prefixed_and_stdin() {
        assert_eq!(parse("c000").unwrap(), [0xc0, 0x00]);
        assert_eq!(
            parse(" C0 00\n e0,00 0x10").unwrap(),
            [0xc0, 0, 0xe0, 0, 0x10]
        );
        let args = vec!["c0".to_string(), "-".to_string(), "00".to_string()];
        let mut stdin: &[u8] = b"00 d0\n";
        assert_eq!(
            parse_args(&args, &mut stdin).unwrap(),
            [0xc0, 0x00, 0xd0, 0x00]
        );
    }

    #[test]
    fn rejects_what_is_not_hex() {
        assert!(parse("c0 0").unwrap_err().contains("odd"));
        assert!(parse("c0 zz").unwrap_err().contains("`z`"));
        assert!(parse("  ").is_err());
    }
}
