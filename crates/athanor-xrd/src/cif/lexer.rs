//! CIF 1.1 tokenizer: turns text into tags, values, `data_`/`loop_`/`save_` keywords, each with
//! the line it starts on. Handles comments, quoted strings (a quote closes only when followed by
//! whitespace), and semicolon-delimited multi-line text fields.

use super::CifError;

/// How a value was written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// A bare word; only bare `?` and `.` mean unknown / inapplicable.
    Bare,
    /// Between single or double quotes.
    Quoted,
    /// A `;`-delimited text field.
    TextField,
}

/// A data value and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub text: String,
    pub quoting: Quoting,
    pub line: usize,
}

impl Value {
    /// The bare `?`: the value is unknown.
    pub fn is_unknown(&self) -> bool {
        self.quoting == Quoting::Bare && self.text == "?"
    }

    /// The bare `.`: the value is inapplicable (or, for numbers, the default).
    pub fn is_inapplicable(&self) -> bool {
        self.quoting == Quoting::Bare && self.text == "."
    }

    /// `?` or `.`: no value given.
    pub fn is_missing(&self) -> bool {
        self.is_unknown() || self.is_inapplicable()
    }
}

/// One token of a CIF.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// `data_NAME`.
    DataBlock { name: String, line: usize },
    /// `loop_`.
    Loop { line: usize },
    /// `save_NAME` opens a save frame; a bare `save_` closes one.
    Save { name: String, line: usize },
    /// A STAR reserved word CIF does not allow (`global_`, `stop_`).
    Reserved { word: String, line: usize },
    /// A data name such as `_cell_length_a`.
    Tag { name: String, line: usize },
    /// A data value.
    Value(Value),
}

impl Token {
    /// The line the token starts on (1-based).
    pub fn line(&self) -> usize {
        match self {
            Token::DataBlock { line, .. }
            | Token::Loop { line }
            | Token::Save { line, .. }
            | Token::Reserved { line, .. }
            | Token::Tag { line, .. } => *line,
            Token::Value(v) => v.line,
        }
    }
}

/// Splits CIF text into tokens. Fails on an unterminated quoted string or text field.
pub fn tokenize(text: &str) -> Result<Vec<Token>, CifError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i];
        if let Some(first) = line.strip_prefix(';') {
            // A text field runs to the next line that starts with ';'.
            let mut content = String::from(first);
            let mut j = i + 1;
            let close = loop {
                let Some(next) = lines.get(j) else {
                    return Err(CifError::Syntax {
                        line: line_no,
                        message: "text field opened with ';' is never closed (expected a line starting with ';')".into(),
                    });
                };
                if let Some(after) = next.strip_prefix(';') {
                    break after;
                }
                content.push('\n');
                content.push_str(next);
                j += 1;
            };
            tokens.push(Token::Value(Value {
                text: trim_text_field(&content),
                quoting: Quoting::TextField,
                line: line_no,
            }));
            scan_line(close, j + 1, &mut tokens)?;
            i = j + 1;
        } else {
            scan_line(line, line_no, &mut tokens)?;
            i += 1;
        }
    }
    Ok(tokens)
}

/// Text fields keep their inner line breaks; the empty first line and trailing blanks go.
fn trim_text_field(content: &str) -> String {
    let content = content.strip_prefix('\n').unwrap_or(content);
    content.trim_end().to_string()
}

/// Tokenizes one physical line (outside text fields).
fn scan_line(line: &str, line_no: usize, tokens: &mut Vec<Token>) -> Result<(), CifError> {
    let bytes = line.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let c = bytes[pos];
        if c.is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        if c == b'#' {
            return Ok(());
        }
        if c == b'\'' || c == b'"' {
            // A quote closes the string only when followed by whitespace or the end of line.
            let mut end = pos + 1;
            let close = loop {
                match bytes.get(end) {
                    None => {
                        return Err(CifError::Syntax {
                            line: line_no,
                            message: format!(
                                "quoted string starting with {} is not closed on this line (expected a closing {} followed by a space or the end of the line)",
                                c as char, c as char
                            ),
                        })
                    }
                    Some(&b) if b == c => {
                        if bytes.get(end + 1).is_none_or(|n| n.is_ascii_whitespace()) {
                            break end;
                        }
                    }
                    Some(_) => {}
                }
                end += 1;
            };
            tokens.push(Token::Value(Value {
                text: line[pos + 1..close].to_string(),
                quoting: Quoting::Quoted,
                line: line_no,
            }));
            pos = close + 1;
            continue;
        }
        let start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        tokens.push(classify(&line[start..pos], line_no));
    }
    Ok(())
}

/// Sorts a bare word into keyword, tag or value.
fn classify(word: &str, line: usize) -> Token {
    if word.starts_with('_') {
        return Token::Tag {
            name: word.to_string(),
            line,
        };
    }
    let lower = word.to_ascii_lowercase();
    if lower.starts_with("data_") {
        Token::DataBlock {
            name: word[5..].to_string(),
            line,
        }
    } else if lower == "loop_" {
        Token::Loop { line }
    } else if lower.starts_with("save_") {
        Token::Save {
            name: word[5..].to_string(),
            line,
        }
    } else if lower == "global_" || lower == "stop_" {
        Token::Reserved {
            word: word.to_string(),
            line,
        }
    } else {
        Token::Value(Value {
            text: word.to_string(),
            quoting: Quoting::Bare,
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(tokens: &[Token]) -> Vec<(&str, Quoting)> {
        tokens
            .iter()
            .filter_map(|t| match t {
                Token::Value(v) => Some((v.text.as_str(), v.quoting)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn quotes_close_only_before_whitespace() {
        let t = tokenize("_a 'O'Brien's' _b \"x y\" _c 'x,y,z'").unwrap();
        assert_eq!(
            values(&t),
            vec![
                ("O'Brien's", Quoting::Quoted),
                ("x y", Quoting::Quoted),
                ("x,y,z", Quoting::Quoted)
            ]
        );
    }

    #[test]
    fn comments_and_text_fields_are_handled() {
        let src = "data_x # comment\n_title\n;\n line one\n line two\n;\n_n 1#2 # c\n";
        let t = tokenize(src).unwrap();
        assert_eq!(
            values(&t),
            vec![
                (" line one\n line two", Quoting::TextField),
                ("1#2", Quoting::Bare)
            ]
        );
        assert_eq!(
            t[0],
            Token::DataBlock {
                name: "x".into(),
                line: 1
            }
        );
        assert_eq!(t.last().map(Token::line), Some(7));
    }

    #[test]
    fn unterminated_strings_name_their_line() {
        let err = tokenize("data_x\n_a 'open\n").unwrap_err();
        assert!(matches!(err, CifError::Syntax { line: 2, .. }), "{err}");
        let err = tokenize("data_x\n_a\n;\nnever closed\n").unwrap_err();
        assert!(matches!(err, CifError::Syntax { line: 3, .. }), "{err}");
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let t = tokenize("DATA_abc LOOP_ _x 1 Save_frame").unwrap();
        assert!(matches!(&t[0], Token::DataBlock { name, .. } if name == "abc"));
        assert!(matches!(t[1], Token::Loop { .. }));
        assert!(matches!(&t[4], Token::Save { name, .. } if name == "frame"));
    }
}
