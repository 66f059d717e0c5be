//! Countries, by their ISO 3166-1 alpha-2 codes, as clients restrict where
//! they may be used (`allowed_countries`) and as country databases name them.

/// Every pair of capital letters, so that a parsed code is a `&'static str`
/// without allocating: codes are counted and compared on request paths.
static LETTER_PAIRS: [[u8; 2]; 26 * 26] = {
    let mut pairs = [[0u8; 2]; 26 * 26];
    let mut i = 0;
    while i < pairs.len() {
        pairs[i] = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
        i += 1;
    }
    pairs
};

/// A country code: two capital letters (ISO 3166-1 alpha-2). Whether the
/// code is assigned is not checked: databases use a few user-assigned ones
/// (`EU`, `XK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(&'static str);

parsed_string!(Country);

impl Country {
    /// The code in `text`, which must be exactly two capital letters.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.as_bytes() {
            [a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
                let pair = &LETTER_PAIRS[usize::from(a - b'A') * 26 + usize::from(b - b'A')];
                Ok(Self(std::str::from_utf8(pair).expect("capital letters")))
            }
            _ => Err(format!("`{text}` is not a country code (ISO 3166-1 alpha-2, like DE)")),
        }
    }

    /// The code, borrowed for as long as the program runs.
    pub fn code(self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_capital_letters() {
        assert_eq!(Country::parse("DE").map(Country::code), Ok("DE"));
        assert_eq!(Country::parse("ZZ").map(Country::code), Ok("ZZ"));
        for bad in ["de", "D", "DEU", "D1", "", "ÄÖ"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
        let de: Country = serde_json::from_str("\"DE\"").unwrap();
        assert_eq!(serde_json::to_string(&de).unwrap(), "\"DE\"");
        assert!(serde_json::from_str::<Country>("\"de\"").is_err());
    }
}
